// Original file: proto/hush.proto


export interface GetJoinTokenResponse {
  'token'?: (string);
}

export interface GetJoinTokenResponse__Output {
  'token': (string);
}
