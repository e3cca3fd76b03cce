// Original file: proto/hush.proto


export interface CreateSecretRequest {
  'name'?: (string);
  'data'?: (Buffer | Uint8Array | string);
  'labels'?: ({[key: string]: string});
}

export interface CreateSecretRequest__Output {
  'name': (string);
  'data': (Buffer);
  'labels': ({[key: string]: string});
}
