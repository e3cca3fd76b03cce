import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { describe, it } from 'node:test';
import { NodeSecrets } from '../agent/secrets/node-secrets.js';
import { FuseNativeHandles } from './engines/fuse-native-handles.js';
import { createOps, EACCES, EBADF, EIO, EISDIR, ENOENT, ENOTDIR, EROFS, WRITE_OPS, type FuseOps, type FuseStat } from './ops.js';

const T = 1_700_000_000_555;

function setup(): { secrets: NodeSecrets; handles: FuseNativeHandles; ops: FuseOps } {
  const secrets = new NodeSecrets();
  secrets.replaceAll(
    [{ id: 't1', name: 'web.1', serviceName: 'web', files: [{ secretId: 's1', secretName: 's', version: 2, target: 'db', uid: 1000, gid: 1001, mode: 0o4640 }] }],
    [{ id: 's1', name: 's', version: 2, data: Buffer.from('0123456789'), createdAtMs: T }],
  );
  const handles = new FuseNativeHandles(secrets);
  return { secrets, handles, ops: createOps(secrets, handles, { rootTimeMs: 42 }) };
}

/** Calls a handler and returns the arguments it called back with (handlers answer synchronously). */
function call(fn: (...a: never[]) => void, ...args: unknown[]): unknown[] {
  let out: unknown[] | undefined;
  (fn as (...a: unknown[]) => void)(...args, (...r: unknown[]) => {
    assert.equal(out, undefined, 'called back twice');
    out = r;
  });
  assert.ok(out, 'no synchronous callback');
  assert.equal(typeof out[0], 'number', 'the result is always a number (fuse-native reads it as int32)');
  return out;
}

describe('fuse ops', () => {
  it('getattr: root, task directory, file, unknown', () => {
    const { ops } = setup();
    const [r0, root] = call(ops.getattr, '/') as [number, FuseStat];
    assert.equal(r0, 0);
    assert.equal(root.mode, constants.S_IFDIR | 0o711, 'root lists the root; other uids may only traverse it');
    assert.equal(root.uid, 0);
    assert.equal(root.mtime, 42);

    const [r1, dir] = call(ops.getattr, '/web.1') as [number, FuseStat];
    assert.equal(r1, 0);
    assert.equal(dir.mode, constants.S_IFDIR | 0o550);
    assert.equal(dir.uid, 1000);
    assert.equal(dir.gid, 1001);

    const [r2, file] = call(ops.getattr, '/web/db') as [number, FuseStat];
    assert.equal(r2, 0);
    assert.equal(file.mode, constants.S_IFREG | 0o640, 'permission bits only: no setuid from a reference');
    assert.equal(file.uid, 1000);
    assert.equal(file.gid, 1001);
    assert.equal(file.size, 10);
    assert.equal(file.mtime, T);
    assert.equal(file.nlink, 1);

    assert.deepEqual(call(ops.getattr, '/nope'), [ENOENT]);
    assert.deepEqual(call(ops.getattr, '/web.1/nope'), [ENOENT]);
  });

  it('readdir lists names; a file is not a directory', () => {
    const { ops } = setup();
    assert.deepEqual(call(ops.readdir, '/'), [0, ['.', '..', 'web.1', 'web']]);
    assert.deepEqual(call(ops.readdir, '/web.1'), [0, ['.', '..', 'db']]);
    assert.deepEqual(call(ops.readdir, '/web.1/db'), [ENOTDIR]);
    assert.deepEqual(call(ops.readdir, '/x'), [ENOENT]);
  });

  it('open: read-only access gives a handle >= 1 as cb(0, fd); write access EROFS; directories EISDIR', () => {
    const { ops, handles } = setup();
    const [r, fd] = call(ops.open, '/web.1/db', constants.O_RDONLY) as [number, number];
    assert.equal(r, 0);
    assert.ok(Number.isInteger(fd) && fd >= 1);
    for (const flags of [constants.O_WRONLY, constants.O_RDWR, constants.O_RDONLY | constants.O_TRUNC, constants.O_WRONLY | constants.O_APPEND]) {
      assert.deepEqual(call(ops.open, '/web.1/db', flags), [EROFS], `flags ${flags}`);
    }
    assert.deepEqual(call(ops.open, '/web.1', constants.O_RDONLY), [EISDIR]);
    assert.deepEqual(call(ops.open, '/nope/db', constants.O_RDONLY), [ENOENT]);
    assert.equal(handles.openHandles, 1);
  });

  it('read copies the bytes of the handle; EACCES once revoked; EBADF for an unknown handle', () => {
    const { ops, secrets, handles } = setup();
    const [, fd] = call(ops.open, '/web.1/db', constants.O_RDONLY) as [number, number];
    const buf = Buffer.alloc(4);
    assert.deepEqual(call(ops.read, '/web.1/db', fd, buf, 4, 3), [4]);
    assert.equal(buf.toString(), '3456');
    const big = Buffer.alloc(100);
    assert.deepEqual(call(ops.read, '/web.1/db', fd, big, 100, 8), [2]);
    assert.deepEqual(call(ops.read, '/web.1/db', fd, big, 100, 10), [0]);
    secrets.apply([], ['t1'], []);
    assert.deepEqual(call(ops.read, '/web.1/db', fd, big, 100, 0), [EACCES]);
    assert.deepEqual(call(ops.read, '/web.1/db', 999, big, 100, 0), [EBADF]);
    assert.deepEqual(call(ops.release, '/web.1/db', fd), [0]);
    assert.equal(handles.openHandles, 0);
  });

  it('every write-type operation answers EROFS', () => {
    const { ops } = setup();
    const args: Record<(typeof WRITE_OPS)[number], unknown[]> = {
      write: ['/web.1/db', 1, Buffer.from('x'), 1, 0],
      create: ['/web.1/new', 0o644],
      mknod: ['/web.1/new', 0o644, 0],
      mkdir: ['/new', 0o755],
      unlink: ['/web.1/db'],
      rmdir: ['/web.1'],
      rename: ['/web.1/db', '/web.1/x'],
      link: ['/web.1/db', '/web.1/x'],
      symlink: ['/etc/passwd', '/web.1/x'],
      chmod: ['/web.1/db', 0o777],
      chown: ['/web.1/db', 0, 0],
      truncate: ['/web.1/db', 0],
      ftruncate: ['/web.1/db', 1, 0],
      utimens: ['/web.1/db', 0, 0],
      setxattr: ['/web.1/db', 'user.x', Buffer.from('1'), 0, 0],
      removexattr: ['/web.1/db', 'user.x'],
    };
    for (const name of WRITE_OPS) {
      assert.deepEqual(call(ops[name], ...args[name]), [EROFS], name);
    }
  });

  it('statfs describes a read-only file system', () => {
    const { ops } = setup();
    const [r, st] = call(ops.statfs, '/') as [number, { bsize: number; namemax: number; flag: number }];
    assert.equal(r, 0);
    assert.equal(st.bsize, 4096);
    assert.equal(st.namemax, 255);
    assert.equal(st.flag & 1, 1);
  });

  it('a handler that throws answers EIO and reports the operation, without data', () => {
    const broken = { lookup: () => { throw new Error('boom'); } } as unknown as NodeSecrets;
    const seen: string[] = [];
    const ops = createOps(broken, new FuseNativeHandles(broken), { rootTimeMs: 0, onError: (op) => seen.push(op) });
    assert.deepEqual(call(ops.getattr, '/x'), [EIO]);
    assert.deepEqual(call(ops.open, '/x', 0), [EIO]);
    assert.deepEqual(seen, ['getattr', 'open']);
  });
});
