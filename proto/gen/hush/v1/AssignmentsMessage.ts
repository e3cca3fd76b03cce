// Original file: proto/hush.proto

import type { AssignmentChange as _hush_v1_AssignmentChange, AssignmentChange__Output as _hush_v1_AssignmentChange__Output } from '../../hush/v1/AssignmentChange.js';
import type { Long } from '@grpc/proto-loader';

// Original file: proto/hush.proto

export const _hush_v1_AssignmentsMessage_Type = {
  COMPLETE: 'COMPLETE',
  INCREMENTAL: 'INCREMENTAL',
} as const;

export type _hush_v1_AssignmentsMessage_Type =
  | 'COMPLETE'
  | 0
  | 'INCREMENTAL'
  | 1

export type _hush_v1_AssignmentsMessage_Type__Output = typeof _hush_v1_AssignmentsMessage_Type[keyof typeof _hush_v1_AssignmentsMessage_Type]

export interface AssignmentsMessage {
  'type'?: (_hush_v1_AssignmentsMessage_Type);
  'appliesTo'?: (number | string | Long);
  'resultsIn'?: (number | string | Long);
  'changes'?: (_hush_v1_AssignmentChange)[];
  'partial'?: (boolean);
  'sealPublicKey'?: (Buffer | Uint8Array | string);
  'managers'?: (string)[];
}

export interface AssignmentsMessage__Output {
  'type': (_hush_v1_AssignmentsMessage_Type__Output);
  'appliesTo': (number);
  'resultsIn': (number);
  'changes': (_hush_v1_AssignmentChange__Output)[];
  'partial': (boolean);
  'sealPublicKey': (Buffer);
  'managers': (string)[];
}
