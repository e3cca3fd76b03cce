// Original file: proto/hush.proto


export interface GetManagerStatusRequest {
}

export interface GetManagerStatusRequest__Output {
}
