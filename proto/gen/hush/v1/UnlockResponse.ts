// Original file: proto/hush.proto


export interface UnlockResponse {
}

export interface UnlockResponse__Output {
}
