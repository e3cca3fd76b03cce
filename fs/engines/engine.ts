import type { Logger } from 'pino';
import type { ServedState } from '../view.js';

// What a FUSE engine is (fs/mount.ts picks one): a function that mounts the read-only view at a mount
// point, with these options, and returns the mount.

/** The mount options hush asks for, as they end up in the `-o` string. */
export const MOUNT_OPTIONS = [
  'allow_other',
  'auto_unmount',
  'default_permissions',
  'fsname=hush',
  'ro',
  'direct_io',
  'negative_timeout=0',
  'entry_timeout=0',
  'attr_timeout=0',
] as const;

/**
 * Whether the secret bytes an engine serves are kept out of swap (mlock). 'locked': every version so
 * far; 'failing': `failures` versions could not be locked (RLIMIT_MEMLOCK without CAP_IPC_LOCK: the
 * agent unit sets LimitMEMLOCK=infinity); 'unsupported': the engine serves from JS buffers it cannot
 * lock (fuse-native).
 */
export interface MemoryLock {
  state: 'locked' | 'failing' | 'unsupported';
  failures: number;
}

export interface MountedSecrets {
  /** The canonical (symlink-free) path of the mount point. */
  readonly mountPoint: string;
  memoryLock(): MemoryLock;
  /** Detaches the mount (open files keep being served until closed) and lets the process exit. Idempotent. */
  unmount(): Promise<void>;
}

/**
 * Mounts `secrets` read-only at `mountPoint` (fs/mountpoint.ts prepares it); resolves once the kernel
 * has initialised the connection, i.e. the files can be read.
 */
export type MountEngine = (mountPoint: string, secrets: ServedState, log?: Logger) => Promise<MountedSecrets>;
