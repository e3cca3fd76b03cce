// The fuse-native engine's handle table over the agent's real NodeSecrets: what an open file reads
// across revocation and rotation, and when the versions it held are zeroed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeSecrets } from '../../agent/secrets/node-secrets.js';
import { FuseNativeHandles } from './fuse-native-handles.js';
import { T1, payload, ref, task } from '../test/fixtures.js';


const isZero = (b: Buffer) => b.every((x) => x === 0);

function readAll(h: FuseNativeHandles, fd: number): string {
  const r = h.read(fd, 0, 1 << 20);
  assert.ok(Buffer.isBuffer(r), `read gave ${String(r)}`);
  return r.toString();
}

describe('fuse-native handles', () => {
  it('open gives a handle (>= 1) reading the file\'s bytes; a directory or a missing path is not opened', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    s.replaceAll([task('t1', 'web.1', 'web', [ref('s1', 3, 'db', { uid: 1000, gid: 2000, mode: 0o440 })])], [payload('s1', 3, 'pw-3', T1 + 42)]);
    const fd = h.open('/web.1/db')!;
    assert.ok(fd >= 1);
    assert.equal(readAll(h, fd), 'pw-3');
    assert.equal(h.read(fd, 1, 2).toString(), 'w-');
    assert.equal(h.read(fd, 10, 5).toString(), '');
    assert.equal(h.read(fd + 1000, 0, 1), 'bad-handle');
    assert.equal(h.open('/web.1'), undefined, 'a directory is not opened');
    assert.equal(h.open('/nope/db'), undefined);
  });

  it('revokes a handle when its task is removed', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f')])], [], [payload('s1', 1, 'secret')]);
    const fd = h.open('/a.1/f')!;
    assert.equal(readAll(h, fd), 'secret');
    s.apply([], ['t1'], []);
    assert.equal(s.lookup('/a.1/f'), undefined);
    assert.equal(h.read(fd, 0, 10), 'revoked');
    h.release(fd);
    assert.equal(h.read(fd, 0, 10), 'bad-handle');
  });

  it('revokes a handle when its reference is dropped from a task that stays', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f'), ref('s2', 1, 'g')])], [], [payload('s1', 1, 'eff'), payload('s2', 1, 'gee')]);
    const f = h.open('/a.1/f')!;
    const g = h.open('/a.1/g')!;
    s.apply([task('t1', 'a.1', 'a', [ref('s2', 1, 'g')])], [], []);
    assert.equal(s.lookup('/a.1/f'), undefined);
    assert.equal(h.read(f, 0, 10), 'revoked');
    assert.equal(readAll(h, g), 'gee');
  });

  it('revokes a handle when its target now names another secret', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f')])], [], [payload('s1', 1, 'old'), payload('s2', 1, 'other')]);
    const fd = h.open('/a.1/f')!;
    s.apply([task('t1', 'a.1', 'a', [ref('s2', 1, 'f')])], [], []);
    assert.equal(h.read(fd, 0, 10), 'revoked');
    assert.equal(readAll(h, h.open('/a.1/f')!), 'other');
  });

  it('a task re-added under the same id does not revive a handle from its earlier life', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    const t = task('t1', 'a.1', 'a', [ref('s1', 1, 'f')]);
    s.apply([t], [], [payload('s1', 1, 'v')]);
    const fd = h.open('/a.1/f')!;
    s.apply([], ['t1'], []);
    s.apply([t], [], []);
    assert.equal(s.lookup('/a.1/f')?.kind, 'file');
    assert.equal(h.read(fd, 0, 10), 'revoked');
    const fresh = h.open('/a.1/f')!;
    assert.equal(readAll(h, fresh), 'v');
  });

  it('rotation: an open handle reads its version whole; the old buffer is zeroed when its last handle closes', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    const v1 = payload('s1', 1, 'version-one-is-longer');
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f')])], [], [v1]);
    const old = h.open('/a.1/f')!;
    const old2 = h.open('/a.1/f')!;
    assert.equal(h.read(old, 0, 8).toString(), 'version-');

    s.apply([task('t1', 'a.1', 'a', [ref('s1', 2, 'f')])], [], [payload('s1', 2, 'v2')], [{ id: 's1', version: 1 }]);
    const f = s.lookup('/a.1/f');
    assert.equal(f?.kind === 'file' && f.size, 2);
    const fresh = h.open('/a.1/f')!;
    assert.equal(readAll(h, fresh), 'v2');
    assert.equal(readAll(h, old), 'version-one-is-longer');
    assert.equal(h.read(old, 8, 100).toString(), 'one-is-longer');
    assert.equal(s.heldVersions, 2, 'v1 is still held for the open handles');

    h.release(old);
    assert.equal(v1.data.toString(), 'version-one-is-longer', 'still one handle on v1');
    h.release(old2);
    assert.ok(isZero(v1.data), 'v1 zeroed after its last handle');
    assert.equal(s.heldVersions, 1);
    h.release(fresh);
    assert.equal(s.heldVersions, 1, 'v2 stays: it is referenced');
  });

  it('rotation in two steps (new version first, old one removed later) keeps and then zeroes v1', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    const v1 = payload('s1', 1, 'one');
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f')])], [], [v1]);
    const fd = h.open('/a.1/f')!;
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 2, 'f')])], [], [payload('s1', 2, 'two')]);
    assert.equal(s.heldVersions, 2);
    s.apply([], [], [], [{ id: 's1', version: 1 }]);
    assert.equal(s.heldVersions, 2, 'removed, but an open handle still reads it');
    assert.equal(readAll(h, fd), 'one');
    h.release(fd);
    assert.ok(isZero(v1.data));
    assert.equal(s.heldVersions, 1);
  });

  it('a revoked handle releases its version at once (not at close)', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    const p = payload('s1', 1, 'gone');
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f')])], [], [p]);
    const fd = h.open('/a.1/f')!;
    s.apply([], ['t1'], [], [{ id: 's1', version: 1 }]);
    assert.ok(isZero(p.data));
    assert.equal(s.heldVersions, 0);
    assert.equal(h.openHandles, 1, 'the handle exists until the reader closes it');
    h.release(fd);
    assert.equal(h.openHandles, 0);
  });

  it('handle numbers stay in 1..2^31-1 (fuse-native passes them as int32) and skip live ones', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f')])], [], [payload('s1', 1, 'x')]);
    const first = h.open('/a.1/f')!;
    assert.equal(first, 1);
    (h as unknown as { nextHandle: number }).nextHandle = 0x7fffffff;
    assert.equal(h.open('/a.1/f'), 0x7fffffff);
    assert.equal(h.open('/a.1/f'), 2, 'wraps to 1, which is still open, so 2');
    h.release(first);
    (h as unknown as { nextHandle: number }).nextHandle = 1;
    assert.equal(h.open('/a.1/f'), 1);
    assert.equal(h.openHandles, 3);
  });

  it('a handle opened after every earlier one was released is revoked all the same', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f')])], [], [payload('s1', 1, 'x')]);
    h.release(h.open('/a.1/f')!);
    const fd = h.open('/a.1/f')!;
    s.apply([], ['t1'], []);
    assert.equal(h.read(fd, 0, 1), 'revoked');
  });
});
