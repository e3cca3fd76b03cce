// Original file: proto/hush.proto


export interface RemoveManagerRequest {
  'ref'?: (string);
  'force'?: (boolean);
}

export interface RemoveManagerRequest__Output {
  'ref': (string);
  'force': (boolean);
}
