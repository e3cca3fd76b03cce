// Original file: proto/hush.proto


export interface UnlockRequest {
  'unlockKey'?: (string);
}

export interface UnlockRequest__Output {
  'unlockKey': (string);
}
