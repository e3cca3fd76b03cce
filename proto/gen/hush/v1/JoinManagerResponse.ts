// Original file: proto/hush.proto


export interface JoinManagerResponse {
  'managerId'?: (string);
  'clusterId'?: (string);
  'rootCaPem'?: (string);
  'etcdEndpoints'?: (string)[];
  'etcdPrefix'?: (string);
  'etcdCaPem'?: (Buffer | Uint8Array | string);
  'etcdCertPem'?: (Buffer | Uint8Array | string);
  'etcdKeyPem'?: (Buffer | Uint8Array | string);
  'autolock'?: (boolean);
  'dataKey'?: (Buffer | Uint8Array | string);
  'wrappedDataKey'?: (string);
}

export interface JoinManagerResponse__Output {
  'managerId': (string);
  'clusterId': (string);
  'rootCaPem': (string);
  'etcdEndpoints': (string)[];
  'etcdPrefix': (string);
  'etcdCaPem': (Buffer);
  'etcdCertPem': (Buffer);
  'etcdKeyPem': (Buffer);
  'autolock': (boolean);
  'dataKey': (Buffer);
  'wrappedDataKey': (string);
}
