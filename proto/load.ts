// Runtime loader for proto/hush.proto. Options must match scripts/gen-proto.mjs,
// which generates the types in proto/gen/ from the same file.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { ProtoGrpcType } from './gen/hush.js';

// Compiled code lives in dist/proto/, the .proto source in proto/ at the package root.
function protoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, 'hush.proto'), join(here, '..', '..', 'proto', 'hush.proto')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('proto/hush.proto not found next to the hush installation');
}

let cached: ProtoGrpcType['hush']['v1'] | undefined;

export function hushProto(): ProtoGrpcType['hush']['v1'] {
  if (!cached) {
    const def = protoLoader.loadSync(protoPath(), {
      longs: Number, enums: String, defaults: true, oneofs: true,
    });
    cached = (grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType).hush.v1;
  }
  return cached;
}
