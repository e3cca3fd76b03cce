// Original file: proto/hush.proto


export interface IssueNodeCertificateResponse {
  'nodeId'?: (string);
  'certificatePem'?: (string);
  'rootCaPem'?: (string);
  'role'?: (string);
}

export interface IssueNodeCertificateResponse__Output {
  'nodeId': (string);
  'certificatePem': (string);
  'rootCaPem': (string);
  'role': (string);
}
