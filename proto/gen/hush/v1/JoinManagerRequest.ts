// Original file: proto/hush.proto


export interface JoinManagerRequest {
  'token'?: (string);
  'listenAddr'?: (string);
  'hostname'?: (string);
}

export interface JoinManagerRequest__Output {
  'token': (string);
  'listenAddr': (string);
  'hostname': (string);
}
