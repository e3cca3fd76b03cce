// The manager's data encryption key (DEK) and how it is kept on disk.
//
// keyring.json holds the DEK sealed under a key-encryption key (KEK):
//  - without autolock the KEK is the 32 random bytes of the 0600 file `kek` beside it;
//  - with autolock the KEK is the unlock key, which is never written to disk: the
//    operator keeps it, and an unlocked manager holds it in memory to show it again.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurable } from '../../common/files.js';
import { KEY_BYTES, open, seal, SealError } from './seal.js';

const KEYRING_FILE = 'keyring.json';
const KEK_FILE = 'kek';
const UNLOCK_PREFIX = 'HUSHKEY-1-';
const DEK_CONTEXT = 'keyring/dek';

interface KeyringFile {
  version: 1;
  autolock: boolean;
  wrappedDek: string; // base64
}

export interface OpenKeyring {
  dek: Buffer;
  unlockKey?: Buffer; // autolock only
}

export class WrongUnlockKeyError extends Error {
  constructor() {
    super('invalid unlock key: it does not open this manager\'s keys');
  }
}

export function formatUnlockKey(key: Uint8Array): string {
  return UNLOCK_PREFIX + Buffer.from(key).toString('base64url');
}

/** Parses `HUSHKEY-1-<base64url of 32 bytes>`; throws a one-line error otherwise. */
export function parseUnlockKey(text: string): Buffer {
  const s = text.trim();
  const body = s.startsWith(UNLOCK_PREFIX) ? s.slice(UNLOCK_PREFIX.length) : '';
  const key = /^[A-Za-z0-9_-]{43}$/.test(body) ? Buffer.from(body, 'base64url') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) throw new Error(`invalid unlock key format: expected ${UNLOCK_PREFIX}<43 base64url characters>`);
  return key;
}

function write(stateDir: string, file: KeyringFile): void {
  writeFileDurable(join(stateDir, KEYRING_FILE), JSON.stringify(file) + '\n');
}

function read(stateDir: string): KeyringFile {
  const file = JSON.parse(readFileSync(join(stateDir, KEYRING_FILE), 'utf8')) as KeyringFile;
  if (file.version !== 1 || typeof file.wrappedDek !== 'string') throw new Error(`unsupported keyring in ${stateDir}`);
  return file;
}

function wrap(dek: Buffer, kek: Buffer, autolock: boolean): KeyringFile {
  return {
    version: 1,
    autolock,
    wrappedDek: seal(kek, DEK_CONTEXT, dek).toString('base64'),
  };
}

export function keyringExists(stateDir: string): boolean {
  return existsSync(join(stateDir, KEYRING_FILE));
}

export function isAutolocked(stateDir: string): boolean {
  return read(stateDir).autolock;
}

/** Creates a fresh DEK and writes the keyring; returns the DEK (and the unlock key with autolock). */
export function createKeyring(stateDir: string, autolock: boolean): OpenKeyring {
  const dek = randomBytes(KEY_BYTES);
  const kek = randomBytes(KEY_BYTES);
  try {
    if (!autolock) writeFileDurable(join(stateDir, KEK_FILE), kek, 0o600);
    write(stateDir, wrap(dek, kek, autolock));
  } catch (e) {
    kek.fill(0);
    dek.fill(0);
    throw e;
  }
  if (autolock) return { dek, unlockKey: kek };
  kek.fill(0); // on disk; this process needs only the DEK
  return { dek };
}

/** What a manager joining the cluster is given: the DEK itself, or (autolock) the DEK as wrapped
 *  under the cluster's unlock key, which the new manager cannot open until it is unlocked. */
export type KeyringGrant = { autolock: false; dek: Buffer } | { autolock: true; wrappedDek: string };

/** The grant of this manager's keyring, for a manager joining the cluster. */
export function keyringGrant(stateDir: string, dek: Buffer): KeyringGrant {
  const file = read(stateDir);
  return file.autolock ? { autolock: true, wrappedDek: file.wrappedDek } : { autolock: false, dek: Buffer.from(dek) };
}

/** Writes the keyring of a joining manager from its grant (a new kek file without autolock). */
export function adoptKeyring(stateDir: string, grant: KeyringGrant): void {
  if (grant.autolock) {
    write(stateDir, { version: 1, autolock: true, wrappedDek: grant.wrappedDek });
    return;
  }
  const kek = randomBytes(KEY_BYTES);
  try {
    writeFileDurable(join(stateDir, KEK_FILE), kek, 0o600);
    write(stateDir, wrap(grant.dek, kek, false));
  } finally {
    kek.fill(0);
  }
}

/** Opens the DEK: from the kek file, or with the unlock key when autolocked. */
export function openKeyring(stateDir: string, unlockKey?: Buffer): OpenKeyring {
  const file = read(stateDir);
  if (!file.autolock) {
    const kek = readFileSync(join(stateDir, KEK_FILE));
    try {
      return { dek: open(kek, DEK_CONTEXT, Buffer.from(file.wrappedDek, 'base64')) };
    } finally {
      kek.fill(0);
    }
  }
  if (!unlockKey) throw new WrongUnlockKeyError();
  try {
    const dek = open(unlockKey, DEK_CONTEXT, Buffer.from(file.wrappedDek, 'base64'));
    return { dek, unlockKey: Buffer.from(unlockKey) };
  } catch (e) {
    if (e instanceof SealError) throw new WrongUnlockKeyError();
    throw e;
  }
}

/** Re-wraps the DEK under a new unlock key; the old key stops working. */
export function rotateUnlockKey(stateDir: string, dek: Buffer): Buffer {
  if (!read(stateDir).autolock) throw new Error('autolock is not enabled on this manager');
  const kek = randomBytes(KEY_BYTES);
  write(stateDir, wrap(dek, kek, true));
  return kek;
}

/** Removes the keyring files (used to undo a failed init). */
export function removeKeyring(stateDir: string): void {
  rmSync(join(stateDir, KEYRING_FILE), { force: true });
  rmSync(join(stateDir, KEK_FILE), { force: true });
}
