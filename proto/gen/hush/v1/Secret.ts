// Original file: proto/hush.proto

import type { SecretVersion as _hush_v1_SecretVersion, SecretVersion__Output as _hush_v1_SecretVersion__Output } from '../../hush/v1/SecretVersion.js';
import type { Long } from '@grpc/proto-loader';

export interface Secret {
  'id'?: (string);
  'name'?: (string);
  'labels'?: ({[key: string]: string});
  'createdAtMs'?: (number | string | Long);
  'updatedAtMs'?: (number | string | Long);
  'versions'?: (_hush_v1_SecretVersion)[];
}

export interface Secret__Output {
  'id': (string);
  'name': (string);
  'labels': ({[key: string]: string});
  'createdAtMs': (number);
  'updatedAtMs': (number);
  'versions': (_hush_v1_SecretVersion__Output)[];
}
