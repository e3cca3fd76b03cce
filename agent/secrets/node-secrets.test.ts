import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FuseNativeHandles } from '../../fs/engines/fuse-native-handles.js';
import { RandomChanges } from '../../fs/test/random-changes.js';
import { NodeSecrets, type NodeTask, type ViewDelta, type ViewDir, type ViewFile, type ViewSnapshot } from './node-secrets.js';
import { T1, payload, ref, task } from '../../fs/test/fixtures.js';


const isZero = (b: Buffer) => b.every((x) => x === 0);

/** Reads a handle whole, as the fuse-native engine does (fs/engines/fuse-native-handles.ts). */
function readAll(h: FuseNativeHandles, fd: number): string {
  const r = h.read(fd, 0, 1 << 20);
  assert.ok(Buffer.isBuffer(r), `read gave ${String(r)}`);
  return r.toString();
}

/**
 * The root listing rebuilt from every task: each task name (the latest task of that name), then each
 * service with one task here (its alias); a name that tasks or the alias of two services claim, none.
 */
function rebuiltDirs(tasks: NodeTask[]): Map<string, string> {
  const named = new Map<string, NodeTask[]>();
  const byService = new Map<string, NodeTask[]>();
  for (const t of tasks) {
    named.set(t.name, [...(named.get(t.name) ?? []), t]);
    byService.set(t.serviceName, [...(byService.get(t.serviceName) ?? []), t]);
  }
  const claimants = (name: string) => new Set([...(named.get(name) ?? []).map((t) => t.serviceName), ...(byService.has(name) ? [name] : [])]);
  const dirs = new Map<string, string>();
  for (const [name, ts] of named) if (claimants(name).size === 1) dirs.set(name, ts[ts.length - 1].id);
  for (const [service, ts] of byService) if (ts.length === 1 && !named.has(service)) dirs.set(service, ts[0].id);
  return dirs;
}

type Rows = { dirs: ViewDir[]; files: ViewFile[] };
const byPath = <T extends { path: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

/** A copy of the view kept from deltas alone, as the native engine keeps its table. */
class DeltaCopy {
  private root = new Map<number, string>();
  private dirs = new Map<string, ViewDir>();
  private files = new Map<string, ViewFile>();
  private versions = new Map<string, Buffer>();

  apply(delta: ViewDelta, rows: Rows, what: string): void {
    for (const key of delta.rootRemoved) assert.ok(this.root.delete(key), `${what}: root key ${key} removed but not there`);
    for (const [key, name] of delta.rootAdded) {
      assert.ok(!this.root.has(key), `${what}: root key ${key} added twice`);
      this.root.set(key, name);
    }
    for (const name of [...delta.removedDirs, ...delta.changedDirs]) {
      const dir = this.dirs.get('/' + name);
      for (const n of dir?.names ?? []) this.files.delete(`/${name}/${n}`);
      this.dirs.delete('/' + name);
    }
    for (const d of rows.dirs) this.dirs.set(d.path, d);
    for (const f of rows.files) this.files.set(f.path, f);
    for (const [key, data] of delta.versions) {
      if (data) this.versions.set(key, data);
      else this.versions.delete(key);
    }
  }

  assertIs(view: ViewSnapshot, what: string): void {
    const root = [...this.root].sort((a, b) => a[0] - b[0]);
    assert.deepEqual(root.map(([, name]) => name), view.rootNames, `${what}: root names`);
    assert.deepEqual(root.map(([key]) => key), view.rootKeys, `${what}: root keys`);
    assert.deepEqual(byPath(this.dirs.values()), byPath(view.dirs), `${what}: dirs`);
    assert.deepEqual(byPath(this.files.values()), byPath(view.files), `${what}: files`);
    assert.deepEqual([...this.versions.keys()].sort(), [...view.versions.keys()].sort(), `${what}: versions`);
    for (const [key, data] of view.versions) assert.equal(this.versions.get(key), data, `${what}: the buffer of ${key}`);
  }
}

describe('NodeSecrets', () => {
  it('serves /<task>/<target> with the reference metadata, size and version time', () => {
    const s = new NodeSecrets();
    s.replaceAll([task('t1', 'web.1', 'web', [ref('s1', 3, 'db', { uid: 1000, gid: 2000, mode: 0o440 })])], [payload('s1', 3, 'pw-3', T1 + 42)]);
    const f = s.lookup('/web.1/db');
    assert.equal(f?.kind, 'file');
    if (f?.kind !== 'file') return;
    assert.equal(f.ref.uid, 1000);
    assert.equal(f.ref.gid, 2000);
    assert.equal(f.ref.mode, 0o440);
    assert.equal(f.size, 4);
    assert.equal(f.mtimeMs, T1 + 42);
    assert.equal(s.lookup('/web.1/nope'), undefined);
    assert.equal(s.lookup('/nope'), undefined);
    assert.equal(s.lookup('/web.1/db/more'), undefined);
    assert.equal(s.lookup('web.1/db'), undefined);
  });

  it('aliases a service to its task only when the node has exactly one task of it; a name two services claim is served for neither', () => {
    const s = new NodeSecrets();
    const files = [ref('s1', 1, 'a')];
    s.replaceAll([task('t1', 'api.1', 'api', files), task('t2', 'api.2', 'api', files), task('t3', 'db.1', 'db', files)], [payload('s1', 1, 'x')]);
    const root = s.lookup('/');
    assert.equal(root?.kind, 'root');
    assert.deepEqual(root?.kind === 'root' && [...root.names].sort(), ['api.1', 'api.2', 'db', 'db.1']);
    assert.equal(s.lookup('/api'), undefined);
    assert.equal(s.lookup('/db/a')?.kind, 'file');

    s.apply([], ['t2'], []);
    assert.equal(s.lookup('/api/a')?.kind, 'file', 'one api task left: alias appears');
    assert.equal(s.lookup('/api.2'), undefined);

    // A task literally named like another service (an older manager's): neither the task nor the alias.
    s.apply([task('t4', 'db', 'other', files)], [], []);
    assert.equal(s.lookup('/db'), undefined);
    assert.equal(s.lookup('/db/a'), undefined);
    assert.equal(s.lookup('/db.1/a')?.kind, 'file', 'db\'s task keeps its own name');
    assert.deepEqual(s.nameConflicts(), [{ name: 'db', services: ['db', 'other'] }]);
    s.apply([], ['t4'], []);
    const d = s.lookup('/db');
    assert.equal(d?.kind === 'dir' && d.task.id, 't3', 'the alias is back once the other claim has gone');
    assert.deepEqual(s.nameConflicts(), []);
  });

  it('replaceAll revokes whatever is absent and zeroes dropped payloads', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    const p1 = payload('s1', 1, 'one');
    const p2 = payload('s2', 1, 'two');
    s.replaceAll([task('t1', 'a.1', 'a', [ref('s1', 1, 'one')]), task('t2', 'b.1', 'b', [ref('s2', 1, 'two')])], [p1, p2]);
    const fd1 = h.open('/a.1/one')!;
    const fd2 = h.open('/b.1/two')!;
    s.replaceAll([task('t2', 'b.1', 'b', [ref('s2', 1, 'two')])], [payload('s2', 1, 'two')]);
    assert.equal(s.lookup('/a.1'), undefined);
    assert.equal(h.read(fd1, 0, 10), 'revoked');
    assert.equal(readAll(h, fd2), 'two', 'a task present in both snapshots keeps its handles');
    assert.ok(isZero(p1.data), 's1 payload zeroed');
    assert.equal(p2.data.toString(), 'two', 'the held copy of s2 is kept');
    assert.equal(s.heldVersions, 1);
    h.release(fd1);
    h.release(fd2);
    assert.equal(h.openHandles, 0);
  });

  it('a duplicate payload is zeroed, never the held one (even when the same object is passed again)', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    const p = payload('s1', 1, 'keep');
    const t = task('t1', 'a.1', 'a', [ref('s1', 1, 'f')]);
    s.replaceAll([t], [p]);
    s.replaceAll([t], [p]);
    assert.equal(p.data.toString(), 'keep');
    const dup = payload('s1', 1, 'keep');
    s.apply([], [], [dup]);
    assert.ok(isZero(dup.data));
    assert.equal(readAll(h, h.open('/a.1/f')!), 'keep');
  });

  it('applies incremental changes: add a task, update its references, remove it', () => {
    const s = new NodeSecrets();
    let changes = 0;
    const off = s.onChange(() => changes++);
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'one')])], [], [payload('s1', 1, 'one')]);
    assert.equal(s.lookup('/a.1/one')?.kind, 'file');
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'one'), ref('s2', 1, 'two')])], [], [payload('s2', 1, 'two')]);
    assert.equal(s.lookup('/a.1/two')?.kind, 'file');
    assert.equal(s.taskList().length, 1);
    s.apply([], ['t1'], [], [{ id: 's1', version: 1 }, { id: 's2', version: 1 }]);
    assert.equal(s.lookup('/a.1'), undefined);
    assert.equal(s.heldVersions, 0);
    assert.equal(changes, 3);
    off();
    s.apply([], [], []);
    assert.equal(changes, 3);
  });

  it('drops a reference whose secret version is not on the node', () => {
    const s = new NodeSecrets();
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'here'), ref('s9', 1, 'missing')])], [], [payload('s1', 1, 'x')]);
    assert.equal(s.lookup('/a.1/here')?.kind, 'file');
    assert.equal(s.lookup('/a.1/missing'), undefined);
  });

  it('wipe zeroes everything, including versions read by open handles', () => {
    const s = new NodeSecrets();
    const h = new FuseNativeHandles(s);
    const a = payload('s1', 1, 'aaa');
    const b = payload('s2', 1, 'bbb');
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f'), ref('s2', 1, 'g')])], [], [a, b]);
    const fd = h.open('/a.1/f')!;
    s.wipe();
    assert.ok(isZero(a.data) && isZero(b.data));
    assert.equal(h.read(fd, 0, 3), 'revoked');
    assert.equal(s.heldVersions, 0);
    assert.equal(s.taskList().length, 0);
  });

  it('every listener sees every change: one that throws does not keep the others (the handles) from it', () => {
    const s = new NodeSecrets();
    let broken = false;
    s.onChange(() => {
      if (broken) throw new Error('a broken listener');
    });
    const h = new FuseNativeHandles(s);
    s.apply([task('t1', 'a.1', 'a', [ref('s1', 1, 'f')])], [], [payload('s1', 1, 'x')]);
    const fd = h.open('/a.1/f')!;
    broken = true;
    assert.throws(() => s.apply([], ['t1'], []), /a broken listener/, 'the error still reaches the caller');
    assert.equal(s.lookup('/a.1/f'), undefined);
    assert.equal(h.read(fd, 0, 1), 'revoked');
  });

  it('directory modes: 0500 by default, r-x for group/others when a reference grants them read', () => {
    const s = new NodeSecrets();
    s.apply(
      [
        task('t1', 'private.1', 'private', [ref('s1', 1, 'f', { uid: 1000, gid: 1000, mode: 0o400 })]),
        task('t2', 'group.1', 'group', [ref('s1', 1, 'f', { uid: 1000, gid: 1000, mode: 0o440 })]),
        task('t3', 'world.1', 'world', [ref('s1', 1, 'f', { mode: 0o400 }), ref('s1', 1, 'g', { mode: 0o444 })]),
        task('t4', 'empty.1', 'empty', []),
      ],
      [],
      [payload('s1', 1, 'x')],
    );
    const dir = (p: string) => {
      const d = s.lookup(p);
      assert.equal(d?.kind, 'dir');
      return d?.kind === 'dir' ? { uid: d.uid, gid: d.gid, mode: d.mode } : undefined;
    };
    assert.deepEqual(dir('/private.1'), { uid: 1000, gid: 1000, mode: 0o500 });
    assert.deepEqual(dir('/group.1'), { uid: 1000, gid: 1000, mode: 0o550 });
    assert.deepEqual(dir('/world.1'), { uid: 0, gid: 0, mode: 0o555 });
    assert.deepEqual(dir('/empty.1'), { uid: 0, gid: 0, mode: 0o500 });
  });

  it('directory modes: a file owned by another uid or group stays reachable (search only, no listing)', () => {
    const s = new NodeSecrets();
    s.apply(
      [
        task('t1', 'mixed.1', 'mixed', [ref('s1', 1, 'root', { uid: 0, gid: 0, mode: 0o400 }), ref('s1', 1, 'app', { uid: 1000, gid: 0, mode: 0o400 })]),
        task('t2', 'grp.1', 'grp', [ref('s1', 1, 'root', { uid: 0, gid: 0, mode: 0o400 }), ref('s1', 1, 'team', { uid: 0, gid: 3000, mode: 0o440 })]),
      ],
      [],
      [payload('s1', 1, 'x')],
    );
    const mixed = s.lookup('/mixed.1');
    assert.equal(mixed?.kind === 'dir' && mixed.mode, 0o511);
    const grp = s.lookup('/grp.1');
    assert.equal(grp?.kind === 'dir' && grp.mode, 0o551);
  });

  it('random changes: the view is the one rebuilt from every task, each delta turns the copy of the view before into it, and stale handles are revoked', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const s = new NodeSecrets();
      const h = new FuseNativeHandles(s);
      const changes = new RandomChanges(seed);
      const copy = new DeltaCopy();
      let seen: Array<{ delta: ViewDelta; rows: Rows }> = [];
      s.onChange((delta) => seen.push({ delta, rows: s.rows(delta.changedDirs) }));
      let before = s.view();
      for (let step = 0; step < 300; step++) {
        // A handle on up to three files before the change (the fuse-native engine's handles).
        const opened = before.files.slice(0, 3).map((f) => ({ fd: h.open(f.path)!, binding: f.binding, bytes: before.versions.get(f.version)!.toString() }));
        seen = [];
        changes.step(s);
        const what = `seed ${seed}, step ${step} (${changes.what})`;
        const view = s.view();
        assert.equal(seen.length, 1, `${what}: one delta per change`);

        const dirs = rebuiltDirs(s.taskList());
        assert.deepEqual(view.rootNames, [...dirs.keys()], `${what}: root listing (names and order)`);
        for (const [name, id] of dirs) {
          const d = s.lookup('/' + name);
          assert.equal(d?.kind === 'dir' && d.task.id, id, `${what}: /${name}`);
        }

        copy.apply(seen[0].delta, seen[0].rows, what);
        copy.assertIs(view, what);
        const gone = new Set(before.bindings);
        for (const b of view.bindings) gone.delete(b);
        assert.deepEqual(new Set(seen[0].delta.revokedBindings), gone, `${what}: revoked bindings`);

        const alive = new Set(view.bindings);
        for (const o of opened) {
          const r = h.read(o.fd, 0, 1 << 16);
          if (alive.has(o.binding)) assert.equal(Buffer.isBuffer(r) && r.toString(), o.bytes, `${what}: a live handle reads its version`);
          else assert.equal(r, 'revoked', `${what}: a handle on a reference gone`);
          h.release(o.fd);
        }
        assert.equal(h.openHandles, 0);
        before = view;
      }
      s.wipe();
      assert.equal(s.heldVersions, 0);
    }
  });
});
