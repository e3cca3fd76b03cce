// Original file: proto/hush.proto

import type { Long } from '@grpc/proto-loader';

export interface ManagerInfo {
  'id'?: (string);
  'addr'?: (string);
  'hostname'?: (string);
  'leader'?: (boolean);
  'reachable'?: (boolean);
  'version'?: (string);
  'joinedAtMs'?: (number | string | Long);
  'self'?: (boolean);
}

export interface ManagerInfo__Output {
  'id': (string);
  'addr': (string);
  'hostname': (string);
  'leader': (boolean);
  'reachable': (boolean);
  'version': (string);
  'joinedAtMs': (number);
  'self': (boolean);
}
