// Original file: proto/hush.proto


export interface ManagerStatus {
  'clusterId'?: (string);
  'locked'?: (boolean);
  'autolock'?: (boolean);
  'listenAddr'?: (string);
  'nodeId'?: (string);
  'version'?: (string);
}

export interface ManagerStatus__Output {
  'clusterId': (string);
  'locked': (boolean);
  'autolock': (boolean);
  'listenAddr': (string);
  'nodeId': (string);
  'version': (string);
}
