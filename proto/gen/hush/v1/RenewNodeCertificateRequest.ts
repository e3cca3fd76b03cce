// Original file: proto/hush.proto


export interface RenewNodeCertificateRequest {
  'csrPem'?: (string);
  'expiredCertificatePem'?: (string);
  'proof'?: (Buffer | Uint8Array | string);
}

export interface RenewNodeCertificateRequest__Output {
  'csrPem': (string);
  'expiredCertificatePem': (string);
  'proof': (Buffer);
}
