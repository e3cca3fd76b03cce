// Original file: proto/hush.proto


export interface RemoveServiceResponse {
  'id'?: (string);
  'name'?: (string);
}

export interface RemoveServiceResponse__Output {
  'id': (string);
  'name': (string);
}
