// Original file: proto/hush.proto

import type { Node as _hush_v1_Node, Node__Output as _hush_v1_Node__Output } from '../../hush/v1/Node.js';

export interface ListNodesResponse {
  'nodes'?: (_hush_v1_Node)[];
  'warning'?: (string);
}

export interface ListNodesResponse__Output {
  'nodes': (_hush_v1_Node__Output)[];
  'warning': (string);
}
