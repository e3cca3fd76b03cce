// Original file: proto/hush.proto


export interface ListServicesRequest {
}

export interface ListServicesRequest__Output {
}
