// Original file: proto/hush.proto


export interface ListNodesRequest {
}

export interface ListNodesRequest__Output {
}
