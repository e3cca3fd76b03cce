// The agent's view never serves one path for two services (issue 8, item 1), whatever the manager sends:
// an older manager allowed dots in service names, so the global service `web.1` and task 1 of `web` both
// came as tasks named `web.1`, and a replicated `web.1`'s alias `/web.1` was task 1 of `web`. Such a
// path is served for neither (fail closed), and the collision is reported by names only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../common/testing/seeded-random.js';
import { describeTasks } from '../status.js';
import { FuseNativeHandles } from '../../fs/engines/fuse-native-handles.js';
import { NodeSecrets, type NameConflict, type NodeTask, type SecretPayload } from './node-secrets.js';

const T0 = 1_700_000_000_000;
/** Each service's own secret: its bytes name the service, so a read says whose secret it is. */
const valueOf = (service: string) => `value-of:${service}`;
const secretOf = (service: string): SecretPayload => ({ id: `sec-${service}`, name: `sec-${service}`, version: 1, data: Buffer.from(valueOf(service)), createdAtMs: T0 });

function taskOf(id: string, service: string, slot: number): NodeTask {
  return {
    id, name: slot > 0 ? `${service}.${slot}` : service, serviceName: service,
    files: [{ secretId: `sec-${service}`, secretName: `sec-${service}`, version: 1, target: 'pw', uid: 0, gid: 0, mode: 0o400 }],
  };
}

/** The services claiming each root name: those of the tasks of that name, and the service of that name if it has tasks here. */
function claimsOf(tasks: NodeTask[]): Map<string, Set<string>> {
  const claims = new Map<string, Set<string>>();
  const claim = (name: string, service: string) => claims.set(name, (claims.get(name) ?? new Set()).add(service));
  for (const t of tasks) {
    claim(t.name, t.serviceName);
    claim(t.serviceName, t.serviceName);
  }
  return claims;
}

/** Opens and reads a file as the fuse-native engine does. */
function readFile(s: NodeSecrets, path: string): string | undefined {
  const handles = new FuseNativeHandles(s);
  const fd = handles.open(path);
  if (fd === undefined) return undefined;
  try {
    const r = handles.read(fd, 0, 1 << 16);
    assert.ok(Buffer.isBuffer(r), `read ${path}: ${String(r)}`);
    return r.toString();
  } finally {
    handles.release(fd);
  }
}

describe('NodeSecrets: names two services claim', () => {
  it('the exact repro: task 1 of `web` and the global `web.1` both named web.1 — neither is served, web.1\'s alias neither, web keeps its alias', () => {
    const reported: NameConflict[] = [];
    const s = new NodeSecrets((c) => reported.push(c));
    s.replaceAll([taskOf('t1', 'web', 1)], [secretOf('web'), secretOf('web.1')]);
    assert.equal(readFile(s, '/web.1/pw'), valueOf('web'));
    s.apply([taskOf('g1', 'web.1', 0)], [], []);
    assert.equal(s.lookup('/web.1'), undefined, 'a path two services claim is not served');
    assert.equal(readFile(s, '/web.1/pw'), undefined, 'not the other service\'s secret');
    assert.equal(readFile(s, '/web/pw'), valueOf('web'), 'web\'s alias is web\'s alone');
    assert.deepEqual(reported, [{ name: 'web.1', services: ['web', 'web.1'] }]);
    const rows = describeTasks(s, '/run/secrets');
    // Sorted by name, then id: g1 (the global web.1) before t1 (web's task 1); no path for either.
    assert.deepEqual(rows.map((t) => [t.id, t.service, t.files.map((f) => f.path), t.notServed]), [
      ['g1', 'web.1', [null], 'name conflict: web.1 is claimed by services web, web.1'],
      ['t1', 'web', [null], 'name conflict: web.1 is claimed by services web, web.1'],
    ]);
    // The global task leaves: web's task 1 is served again under its name.
    s.apply([], ['g1'], []);
    assert.equal(readFile(s, '/web.1/pw'), valueOf('web'));
    assert.deepEqual(s.nameConflicts(), []);
  });

  it('a replicated `web.1` whose alias is task 1 of `web`: the alias is served for neither', () => {
    const s = new NodeSecrets();
    s.replaceAll([taskOf('t1', 'web', 1), taskOf('r1', 'web.1', 1)], [secretOf('web'), secretOf('web.1')]);
    assert.equal(readFile(s, '/web.1/pw'), undefined);
    assert.equal(readFile(s, '/web.1.1/pw'), valueOf('web.1'), 'the replicated web.1\'s own task name is its own');
    assert.equal(readFile(s, '/web/pw'), valueOf('web'));
    assert.deepEqual(s.nameConflicts(), [{ name: 'web.1', services: ['web', 'web.1'] }]);
  });

  it('random task sets of dotted service names, as an older manager could send: no path is ever served for a service that does not alone claim it', () => {
    const SERVICES = ['web', 'web.1', 'web.2', 'web.1.1', 'api', 'api.3', 'a.b', 'a', 'b.1', '1', '1.1'];
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const random = seededRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
      const reported: string[] = [];
      const s = new NodeSecrets((c) => reported.push(JSON.stringify(c)));
      const sent = new Map<string, NodeTask>();
      let nextId = 1;
      const newTask = () => {
        const service = pick(SERVICES);
        return taskOf(`t${nextId++}`, service, random() < 0.3 ? 0 : 1 + Math.floor(random() * 3));
      };
      s.replaceAll([], SERVICES.map(secretOf));
      let conflictsSeen = 0;
      for (let step = 0; step < 250; step++) {
        const what = `seed ${seed}, step ${step}`;
        const r = random();
        if (r < 0.08) {
          for (const id of [...sent.keys()]) if (random() < 0.3) sent.delete(id);
          for (let n = Math.floor(random() * 4); n > 0; n--) { const t = newTask(); sent.set(t.id, t); }
          s.replaceAll([...sent.values()], SERVICES.map(secretOf));
        } else if (r < 0.6) {
          const ts = Array.from({ length: 1 + Math.floor(random() * 3) }, newTask);
          for (const t of ts) sent.set(t.id, t);
          s.apply(ts, [], []);
        } else if (r < 0.75 && sent.size) {
          // A task moved to another slot or service (an update of the same id).
          const old = pick([...sent.values()]);
          const t = { ...taskOf(old.id, pick(SERVICES), Math.floor(random() * 3)) };
          sent.set(t.id, t);
          s.apply([t], [], []);
        } else {
          const ids = [...sent.keys()].filter(() => random() < 0.3);
          for (const id of ids) sent.delete(id);
          s.apply([], ids, []);
        }

        const tasks = s.taskList();
        const claims = claimsOf(tasks);
        const root = s.view().rootNames;
        assert.equal(new Set(root).size, root.length, `${what}: a root name listed twice`);
        for (const name of root) {
          const owners = claims.get(name)!;
          assert.equal(owners.size, 1, `${what}: /${name} served while ${[...owners].join(', ')} claim it`);
          const dir = s.lookup('/' + name);
          assert.ok(dir?.kind === 'dir' && owners.has(dir.task.serviceName), `${what}: /${name} serves a task of its one claimant`);
          assert.equal(readFile(s, `/${name}/pw`), valueOf(dir.task.serviceName), `${what}: /${name}/pw is its service's secret`);
        }
        const contested = [...claims].filter(([, owners]) => owners.size > 1).map(([name]) => name).sort();
        conflictsSeen += contested.length;
        for (const name of contested) assert.equal(s.lookup(`/${name}/pw`), undefined, `${what}: /${name} is contested and not served`);
        assert.deepEqual(s.nameConflicts().map((c) => c.name).sort(), contested, `${what}: the conflicts NodeSecrets knows`);

        const paths = describeTasks(s, '/run/secrets').flatMap((t) => t.files.flatMap((f) => (f.path === null ? [] : [f.path])));
        assert.equal(new Set(paths).size, paths.length, `${what}: \`hush agent status\` lists a path twice`);
        for (const t of tasks) {
          const served = s.unservedReason(t) === undefined;
          assert.equal(served, !contested.includes(t.name) && s.lookup('/' + t.name)?.kind === 'dir' && (s.lookup('/' + t.name) as { task: NodeTask }).task.id === t.id, `${what}: task ${t.id} served or not as the view says`);
        }
      }
      assert.ok(conflictsSeen > 50, `seed ${seed}: the task sets collide (${conflictsSeen} contested names seen)`);
      assert.ok(reported.length > 0);
      for (const line of reported) for (const service of SERVICES) assert.ok(!line.includes(valueOf(service)), 'a report carries no value');
      s.wipe();
    }
  });
});
