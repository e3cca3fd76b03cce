// Original file: proto/hush.proto

import type { Long } from '@grpc/proto-loader';

export interface SecretVersion {
  'version'?: (number);
  'createdAtMs'?: (number | string | Long);
  'size'?: (number);
}

export interface SecretVersion__Output {
  'version': (number);
  'createdAtMs': (number);
  'size': (number);
}
