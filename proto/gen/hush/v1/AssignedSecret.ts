// Original file: proto/hush.proto

import type { Long } from '@grpc/proto-loader';

export interface AssignedSecret {
  'id'?: (string);
  'name'?: (string);
  'version'?: (number);
  'data'?: (Buffer | Uint8Array | string);
  'createdAtMs'?: (number | string | Long);
  'sealed'?: (Buffer | Uint8Array | string);
}

export interface AssignedSecret__Output {
  'id': (string);
  'name': (string);
  'version': (number);
  'data': (Buffer);
  'createdAtMs': (number);
  'sealed': (Buffer);
}
