// Original file: proto/hush.proto

import type { SecretReference as _hush_v1_SecretReference, SecretReference__Output as _hush_v1_SecretReference__Output } from '../../hush/v1/SecretReference.js';

export interface AssignedTask {
  'id'?: (string);
  'name'?: (string);
  'serviceId'?: (string);
  'serviceName'?: (string);
  'secrets'?: (_hush_v1_SecretReference)[];
}

export interface AssignedTask__Output {
  'id': (string);
  'name': (string);
  'serviceId': (string);
  'serviceName': (string);
  'secrets': (_hush_v1_SecretReference__Output)[];
}
