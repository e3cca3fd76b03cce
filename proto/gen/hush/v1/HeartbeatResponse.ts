// Original file: proto/hush.proto


export interface HeartbeatResponse {
  'periodMs'?: (number);
}

export interface HeartbeatResponse__Output {
  'periodMs': (number);
}
