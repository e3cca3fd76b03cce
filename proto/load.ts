// Runtime loader of hush.proto for grpc-js, from the JSON descriptor that scripts/gen-proto.mjs
// generates from proto/hush.proto (no .proto parsing at run time). Options must match
// scripts/gen-proto.mjs, which generates the types in proto/gen/ from the same file.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './gen/hush.js';
import { hushDescriptor } from './gen/hush-descriptor.js';

let cached: ProtoGrpcType['hush']['v1'] | undefined;

export function hushProto(): ProtoGrpcType['hush']['v1'] {
  if (!cached) {
    const def = protoLoader.fromJSON(hushDescriptor, {
      longs: Number, enums: String, defaults: true, oneofs: true,
    });
    cached = (grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType).hush.v1;
  }
  return cached;
}
