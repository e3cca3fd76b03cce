// Original file: proto/hush.proto

import type { Long } from '@grpc/proto-loader';

export interface Node {
  'id'?: (string);
  'role'?: (string);
  'hostname'?: (string);
  'labels'?: ({[key: string]: string});
  'certSerial'?: (string);
  'certNotAfterMs'?: (number | string | Long);
  'state'?: (string);
  'availability'?: (string);
  'createdAtMs'?: (number | string | Long);
}

export interface Node__Output {
  'id': (string);
  'role': (string);
  'hostname': (string);
  'labels': ({[key: string]: string});
  'certSerial': (string);
  'certNotAfterMs': (number);
  'state': (string);
  'availability': (string);
  'createdAtMs': (number);
}
