// Original file: proto/hush.proto


export interface IssueNodeCertificateRequest {
  'csrPem'?: (string);
  'token'?: (string);
  'hostname'?: (string);
  'labels'?: ({[key: string]: string});
}

export interface IssueNodeCertificateRequest__Output {
  'csrPem': (string);
  'token': (string);
  'hostname': (string);
  'labels': ({[key: string]: string});
}
