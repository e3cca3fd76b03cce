// Original file: proto/hush.proto


export interface HeartbeatRequest {
}

export interface HeartbeatRequest__Output {
}
