// Original file: proto/hush.proto

import type { ServiceSecretReference as _hush_v1_ServiceSecretReference, ServiceSecretReference__Output as _hush_v1_ServiceSecretReference__Output } from '../../hush/v1/ServiceSecretReference.js';

export interface CreateServiceRequest {
  'name'?: (string);
  'mode'?: (string);
  'replicas'?: (number);
  'secrets'?: (_hush_v1_ServiceSecretReference)[];
  'constraints'?: (string)[];
  'labels'?: ({[key: string]: string});
}

export interface CreateServiceRequest__Output {
  'name': (string);
  'mode': (string);
  'replicas': (number);
  'secrets': (_hush_v1_ServiceSecretReference__Output)[];
  'constraints': (string)[];
  'labels': ({[key: string]: string});
}
