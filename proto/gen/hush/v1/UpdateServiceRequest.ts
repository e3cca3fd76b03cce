// Original file: proto/hush.proto

import type { ServiceSecretReference as _hush_v1_ServiceSecretReference, ServiceSecretReference__Output as _hush_v1_ServiceSecretReference__Output } from '../../hush/v1/ServiceSecretReference.js';

export interface UpdateServiceRequest {
  'ref'?: (string);
  'secretAdd'?: (_hush_v1_ServiceSecretReference)[];
  'secretRm'?: (string)[];
  'setReplicas'?: (boolean);
  'replicas'?: (number);
  'constraintAdd'?: (string)[];
  'constraintRm'?: (string)[];
}

export interface UpdateServiceRequest__Output {
  'ref': (string);
  'secretAdd': (_hush_v1_ServiceSecretReference__Output)[];
  'secretRm': (string)[];
  'setReplicas': (boolean);
  'replicas': (number);
  'constraintAdd': (string)[];
  'constraintRm': (string)[];
}
