// Original file: proto/hush.proto


export interface AssignmentsRequest {
}

export interface AssignmentsRequest__Output {
}
