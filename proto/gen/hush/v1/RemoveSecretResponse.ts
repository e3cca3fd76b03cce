// Original file: proto/hush.proto


export interface RemoveSecretResponse {
  'id'?: (string);
  'name'?: (string);
}

export interface RemoveSecretResponse__Output {
  'id': (string);
  'name': (string);
}
