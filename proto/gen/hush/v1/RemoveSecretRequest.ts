// Original file: proto/hush.proto


export interface RemoveSecretRequest {
  'ref'?: (string);
}

export interface RemoveSecretRequest__Output {
  'ref': (string);
}
