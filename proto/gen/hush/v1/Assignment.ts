// Original file: proto/hush.proto

import type { AssignedTask as _hush_v1_AssignedTask, AssignedTask__Output as _hush_v1_AssignedTask__Output } from '../../hush/v1/AssignedTask.js';
import type { AssignedSecret as _hush_v1_AssignedSecret, AssignedSecret__Output as _hush_v1_AssignedSecret__Output } from '../../hush/v1/AssignedSecret.js';

export interface Assignment {
  'task'?: (_hush_v1_AssignedTask | null);
  'secret'?: (_hush_v1_AssignedSecret | null);
  'item'?: "task"|"secret";
}

export interface Assignment__Output {
  'task'?: (_hush_v1_AssignedTask__Output | null);
  'secret'?: (_hush_v1_AssignedSecret__Output | null);
  'item'?: "task"|"secret";
}
