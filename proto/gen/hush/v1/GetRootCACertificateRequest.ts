// Original file: proto/hush.proto


export interface GetRootCACertificateRequest {
}

export interface GetRootCACertificateRequest__Output {
}
