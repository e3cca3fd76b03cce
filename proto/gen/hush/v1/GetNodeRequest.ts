// Original file: proto/hush.proto


export interface GetNodeRequest {
  'ref'?: (string);
}

export interface GetNodeRequest__Output {
  'ref': (string);
}
