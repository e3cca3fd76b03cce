// Original file: proto/hush.proto


export interface RenewNodeCertificateRequest {
  'csrPem'?: (string);
}

export interface RenewNodeCertificateRequest__Output {
  'csrPem': (string);
}
