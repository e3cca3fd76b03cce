// Original file: proto/hush.proto


export interface GetUnlockKeyResponse {
  'unlockKey'?: (string);
  'autolock'?: (boolean);
}

export interface GetUnlockKeyResponse__Output {
  'unlockKey': (string);
  'autolock': (boolean);
}
