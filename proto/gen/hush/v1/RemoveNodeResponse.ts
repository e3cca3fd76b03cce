// Original file: proto/hush.proto


export interface RemoveNodeResponse {
  'id'?: (string);
}

export interface RemoveNodeResponse__Output {
  'id': (string);
}
