// Original file: proto/hush.proto


export interface GetSecretRequest {
  'ref'?: (string);
}

export interface GetSecretRequest__Output {
  'ref': (string);
}
