// Original file: proto/hush.proto


export interface RemoveServiceRequest {
  'ref'?: (string);
}

export interface RemoveServiceRequest__Output {
  'ref': (string);
}
