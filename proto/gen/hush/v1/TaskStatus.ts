// Original file: proto/hush.proto


export interface TaskStatus {
  'taskId'?: (string);
  'state'?: (string);
  'message'?: (string);
}

export interface TaskStatus__Output {
  'taskId': (string);
  'state': (string);
  'message': (string);
}
