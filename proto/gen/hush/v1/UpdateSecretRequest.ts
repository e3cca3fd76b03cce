// Original file: proto/hush.proto


export interface UpdateSecretRequest {
  'ref'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface UpdateSecretRequest__Output {
  'ref': (string);
  'data': (Buffer);
}
