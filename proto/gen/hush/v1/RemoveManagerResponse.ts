// Original file: proto/hush.proto


export interface RemoveManagerResponse {
  'id'?: (string);
}

export interface RemoveManagerResponse__Output {
  'id': (string);
}
