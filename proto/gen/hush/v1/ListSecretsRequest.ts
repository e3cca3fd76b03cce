// Original file: proto/hush.proto


export interface ListSecretsRequest {
}

export interface ListSecretsRequest__Output {
}
