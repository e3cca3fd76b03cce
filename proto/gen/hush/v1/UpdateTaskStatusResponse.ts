// Original file: proto/hush.proto


export interface UpdateTaskStatusResponse {
}

export interface UpdateTaskStatusResponse__Output {
}
