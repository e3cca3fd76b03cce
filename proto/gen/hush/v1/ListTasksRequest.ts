// Original file: proto/hush.proto


export interface ListTasksRequest {
  'service'?: (string);
  'node'?: (string);
}

export interface ListTasksRequest__Output {
  'service': (string);
  'node': (string);
}
