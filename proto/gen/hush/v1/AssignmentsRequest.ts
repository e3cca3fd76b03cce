// Original file: proto/hush.proto


export interface AssignmentsRequest {
  'sealPublicKey'?: (Buffer | Uint8Array | string);
}

export interface AssignmentsRequest__Output {
  'sealPublicKey': (Buffer);
}
