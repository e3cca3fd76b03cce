// Original file: proto/hush.proto


export interface ListManagersRequest {
}

export interface ListManagersRequest__Output {
}
