// Original file: proto/hush.proto

import type { TaskStatus as _hush_v1_TaskStatus, TaskStatus__Output as _hush_v1_TaskStatus__Output } from '../../hush/v1/TaskStatus.js';

export interface UpdateTaskStatusRequest {
  'updates'?: (_hush_v1_TaskStatus)[];
}

export interface UpdateTaskStatusRequest__Output {
  'updates': (_hush_v1_TaskStatus__Output)[];
}
