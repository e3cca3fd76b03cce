// Original file: proto/hush.proto

import type { Secret as _hush_v1_Secret, Secret__Output as _hush_v1_Secret__Output } from '../../hush/v1/Secret.js';

export interface SecretResponse {
  'secret'?: (_hush_v1_Secret | null);
}

export interface SecretResponse__Output {
  'secret': (_hush_v1_Secret__Output | null);
}
