// Original file: proto/hush.proto

import type { ManagerInfo as _hush_v1_ManagerInfo, ManagerInfo__Output as _hush_v1_ManagerInfo__Output } from '../../hush/v1/ManagerInfo.js';

export interface ListManagersResponse {
  'managers'?: (_hush_v1_ManagerInfo)[];
}

export interface ListManagersResponse__Output {
  'managers': (_hush_v1_ManagerInfo__Output)[];
}
