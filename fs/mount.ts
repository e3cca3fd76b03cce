import type { Logger } from 'pino';
import type { ServedState } from './view.js';
import type { MountEngine, MountedSecrets } from './engines/engine.js';

// The FUSE engines, by the name HUSH_FS_ENGINE gives; each serves the same read-only view
// (fs/view.ts) at a mount point made ready by fs/mountpoint.ts:
//   native       the default (fs/engines/native.ts): requests answered on libfuse's own threads by
//                fs/native/hushfs_*.c, from a table in C memory; no hop to the JS thread per request;
//   native-ll    the same table on libfuse's low-level API (fs/native/hushfs_ll.c): stable inode
//                numbers and file handles, the first step to a restart that keeps the mount (issue 11);
//   fuse-native  fs/engines/fuse-native.ts: fuse-native, every request answered on the JS thread (fs/ops.ts).
// A new engine is one more entry here, with an fs/test/view-scenarios.ts run of its own.

export { MOUNT_OPTIONS, type MountedSecrets, type MountEngine } from './engines/engine.js';

const ENGINES: Record<string, () => Promise<MountEngine>> = {
  native: async () => (await import('./engines/native.js')).mountSecretsNative,
  'native-ll': async () => (await import('./engines/native.js')).mountSecretsNativeLowLevel,
  'fuse-native': async () => (await import('./engines/fuse-native.js')).mountSecretsFuseNative,
};

/**
 * Mounts `secrets` read-only at `mountPoint` with the engine HUSH_FS_ENGINE names (default: native).
 * Resolves once the kernel has initialised the connection, i.e. the files can be read.
 */
export async function mountSecrets(mountPoint: string, secrets: ServedState, log?: Logger): Promise<MountedSecrets> {
  const engine = process.env.HUSH_FS_ENGINE || 'native';
  if (!Object.hasOwn(ENGINES, engine)) throw new Error(`hush: HUSH_FS_ENGINE must be 'native', 'native-ll' or 'fuse-native', not '${engine}'`);
  return (await ENGINES[engine]())(mountPoint, secrets, log);
}
