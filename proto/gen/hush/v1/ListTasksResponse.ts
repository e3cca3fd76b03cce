// Original file: proto/hush.proto

import type { Task as _hush_v1_Task, Task__Output as _hush_v1_Task__Output } from '../../hush/v1/Task.js';

export interface ListTasksResponse {
  'tasks'?: (_hush_v1_Task)[];
  'warning'?: (string);
}

export interface ListTasksResponse__Output {
  'tasks': (_hush_v1_Task__Output)[];
  'warning': (string);
}
