// Original file: proto/hush.proto


export interface ServiceSecretReference {
  'secretId'?: (string);
  'secretName'?: (string);
  'version'?: (number);
  'target'?: (string);
  'uid'?: (number);
  'gid'?: (number);
  'mode'?: (number);
  '_mode'?: "mode";
}

export interface ServiceSecretReference__Output {
  'secretId': (string);
  'secretName': (string);
  'version': (number);
  'target': (string);
  'uid': (number);
  'gid': (number);
  'mode'?: (number);
  '_mode'?: "mode";
}
