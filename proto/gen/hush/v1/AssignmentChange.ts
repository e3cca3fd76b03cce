// Original file: proto/hush.proto

import type { Assignment as _hush_v1_Assignment, Assignment__Output as _hush_v1_Assignment__Output } from '../../hush/v1/Assignment.js';

// Original file: proto/hush.proto

export const _hush_v1_AssignmentChange_Action = {
  UPDATE: 'UPDATE',
  REMOVE: 'REMOVE',
} as const;

export type _hush_v1_AssignmentChange_Action =
  | 'UPDATE'
  | 0
  | 'REMOVE'
  | 1

export type _hush_v1_AssignmentChange_Action__Output = typeof _hush_v1_AssignmentChange_Action[keyof typeof _hush_v1_AssignmentChange_Action]

export interface AssignmentChange {
  'action'?: (_hush_v1_AssignmentChange_Action);
  'assignment'?: (_hush_v1_Assignment | null);
}

export interface AssignmentChange__Output {
  'action': (_hush_v1_AssignmentChange_Action__Output);
  'assignment': (_hush_v1_Assignment__Output | null);
}
