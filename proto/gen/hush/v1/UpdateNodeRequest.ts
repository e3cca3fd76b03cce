// Original file: proto/hush.proto


export interface UpdateNodeRequest {
  'ref'?: (string);
  'availability'?: (string);
  'labelAdd'?: ({[key: string]: string});
  'labelRm'?: (string)[];
}

export interface UpdateNodeRequest__Output {
  'ref': (string);
  'availability': (string);
  'labelAdd': ({[key: string]: string});
  'labelRm': (string)[];
}
