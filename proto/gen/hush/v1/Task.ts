// Original file: proto/hush.proto

import type { Long } from '@grpc/proto-loader';

export interface Task {
  'id'?: (string);
  'name'?: (string);
  'serviceId'?: (string);
  'serviceName'?: (string);
  'slot'?: (number);
  'nodeId'?: (string);
  'desiredState'?: (string);
  'state'?: (string);
  'message'?: (string);
  'stateSinceMs'?: (number | string | Long);
}

export interface Task__Output {
  'id': (string);
  'name': (string);
  'serviceId': (string);
  'serviceName': (string);
  'slot': (number);
  'nodeId': (string);
  'desiredState': (string);
  'state': (string);
  'message': (string);
  'stateSinceMs': (number);
}
