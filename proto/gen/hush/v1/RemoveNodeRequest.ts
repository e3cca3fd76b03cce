// Original file: proto/hush.proto


export interface RemoveNodeRequest {
  'ref'?: (string);
  'force'?: (boolean);
}

export interface RemoveNodeRequest__Output {
  'ref': (string);
  'force': (boolean);
}
