// Original file: proto/hush.proto

import type { Secret as _hush_v1_Secret, Secret__Output as _hush_v1_Secret__Output } from '../../hush/v1/Secret.js';

export interface ListSecretsResponse {
  'secrets'?: (_hush_v1_Secret)[];
  'warning'?: (string);
}

export interface ListSecretsResponse__Output {
  'secrets': (_hush_v1_Secret__Output)[];
  'warning': (string);
}
