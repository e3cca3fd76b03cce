// Original file: proto/hush.proto

import type { ServiceSecretReference as _hush_v1_ServiceSecretReference, ServiceSecretReference__Output as _hush_v1_ServiceSecretReference__Output } from '../../hush/v1/ServiceSecretReference.js';
import type { Long } from '@grpc/proto-loader';

export interface Service {
  'id'?: (string);
  'name'?: (string);
  'mode'?: (string);
  'replicas'?: (number);
  'secrets'?: (_hush_v1_ServiceSecretReference)[];
  'constraints'?: (string)[];
  'labels'?: ({[key: string]: string});
  'createdAtMs'?: (number | string | Long);
  'updatedAtMs'?: (number | string | Long);
}

export interface Service__Output {
  'id': (string);
  'name': (string);
  'mode': (string);
  'replicas': (number);
  'secrets': (_hush_v1_ServiceSecretReference__Output)[];
  'constraints': (string)[];
  'labels': ({[key: string]: string});
  'createdAtMs': (number);
  'updatedAtMs': (number);
}
