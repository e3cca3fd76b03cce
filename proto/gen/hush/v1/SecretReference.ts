// Original file: proto/hush.proto


export interface SecretReference {
  'secretId'?: (string);
  'secretName'?: (string);
  'version'?: (number);
  'target'?: (string);
  'uid'?: (number);
  'gid'?: (number);
  'mode'?: (number);
}

export interface SecretReference__Output {
  'secretId': (string);
  'secretName': (string);
  'version': (number);
  'target': (string);
  'uid': (number);
  'gid': (number);
  'mode': (number);
}
