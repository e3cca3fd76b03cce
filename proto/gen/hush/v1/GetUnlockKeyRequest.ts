// Original file: proto/hush.proto


export interface GetUnlockKeyRequest {
  'rotate'?: (boolean);
}

export interface GetUnlockKeyRequest__Output {
  'rotate': (boolean);
}
