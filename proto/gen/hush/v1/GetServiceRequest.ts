// Original file: proto/hush.proto


export interface GetServiceRequest {
  'ref'?: (string);
}

export interface GetServiceRequest__Output {
  'ref': (string);
}
