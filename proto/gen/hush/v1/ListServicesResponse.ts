// Original file: proto/hush.proto

import type { Service as _hush_v1_Service, Service__Output as _hush_v1_Service__Output } from '../../hush/v1/Service.js';

export interface ListServicesResponse {
  'services'?: (_hush_v1_Service)[];
  'warning'?: (string);
}

export interface ListServicesResponse__Output {
  'services': (_hush_v1_Service__Output)[];
  'warning': (string);
}
