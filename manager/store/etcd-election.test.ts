// Leader election on a real 3-member etcd, candidates in real child processes: hand-over on kill -9,
// on SIGSTOP (the paused leader, resumed, knows it no longer leads and its fenced write is refused),
// on resign, and close() letting a candidate's process exit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../common/testing/wait.js';
import { campaign, electionPrefix, FencedError } from './etcd-election.js';
import { openEtcdStore } from './etcd.js';
import { bytesPrefixEnd } from './etcd-layout.js';
import { EtcdClient } from './etcd-rpc.js';
import { startEtcdCluster, type EtcdCluster } from './testdata/etcd-cluster.js';

const TTL = 2; // seconds: etcd's minimum lease TTL is 1.5 s with the default election timeout
let cluster: EtcdCluster;
let client: EtcdClient;
const children = new Set<Child>();
let n = 0;

interface Child {
  name: string;
  proc: ChildProcess;
  events: Array<{ ev: string; [k: string]: unknown }>;
  exited: Promise<number | null>;
  send(line: string): void;
  has(ev: string): { ev: string; [k: string]: unknown } | undefined;
}

function candidate(prefix: string, name: string, endpoints = cluster.endpoints): Child {
  const proc = spawn(process.execPath, [fileURLToPath(new URL('./testdata/election-child.js', import.meta.url)),
    endpoints.join(','), prefix, name, String(TTL)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const events: Child['events'] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const c: Child = {
    name, proc, events, exited,
    send: (line) => proc.stdin!.write(line + '\n'),
    has: (ev) => events.find((e) => e.ev === ev),
  };
  children.add(c);
  void exited.then(() => children.delete(c));
  return c;
}

async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill('SIGCONT');
  c.proc.kill('SIGKILL');
  await c.exited;
}

before(async () => {
  cluster = await startEtcdCluster();
  client = new EtcdClient({ endpoints: cluster.endpoints });
});

after(async () => {
  await Promise.all([...children].map(stopChild));
  client?.close();
  await cluster?.stop();
});

const event = (c: Child, ev: string, timeoutMs: number) => waitUntil(`${c.name}: ${ev}`, () => c.has(ev), timeoutMs, { intervalMs: 10 });

test('the first candidate leads, the second waits; resign hands over at once; close() lets the process exit', async () => {
  const prefix = `/t-${process.pid}-${++n}`;
  const a = candidate(prefix, 'a');
  const leadA = await event(a, 'leading', 5000);
  const b = candidate(prefix, 'b');
  const campB = await event(b, 'campaigning', 5000);
  assert.ok((campB.rev as number) > (leadA.rev as number));
  // b is waiting: it stays not leading while a keeps its lease over several keepalive periods.
  a.send('write');
  await event(a, 'write', 5000);
  assert.equal(a.has('write')!.ok, true);
  assert.equal(b.has('leading'), undefined);

  const resignedAt = Date.now();
  a.send('resign');
  // At once: well within the TTL that an expiry would take.
  const leadB = await event(b, 'leading', TTL * 1000 - 500);
  assert.equal(leadB.rev, campB.rev);
  assert.ok(Date.now() - resignedAt < TTL * 1000);
  assert.ok(a.has('lost'));
  a.send('write'); // a resigned: its fenced write is refused
  await waitUntil('a: second write', () => a.events.filter((e) => e.ev === 'write').length === 2, 5000);
  assert.equal(a.events.filter((e) => e.ev === 'write')[1].ok, false);

  b.send('close');
  assert.equal(await waitUntil('b exits by itself', async () => {
    const code = await Promise.race([b.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 50))]);
    return code === 'running' ? undefined : { code };
  }, 10_000).then((r) => r.code), 0);
  assert.ok(b.has('closed'));
  await stopChild(a);
});

test('kill -9 of the leader: the waiting candidate leads within TTL + a few seconds', async () => {
  const prefix = `/t-${process.pid}-${++n}`;
  const a = candidate(prefix, 'a');
  await event(a, 'leading', 5000);
  const b = candidate(prefix, 'b');
  await event(b, 'campaigning', 5000);
  assert.equal(b.has('leading'), undefined);
  const killedAt = Date.now();
  a.proc.kill('SIGKILL');
  await a.exited;
  await event(b, 'leading', TTL * 1000 + 4000);
  console.log(`kill -9: successor leads after ${Date.now() - killedAt} ms (TTL ${TTL} s)`);
  b.send('write');
  await event(b, 'write', 5000);
  assert.equal(b.has('write')!.ok, true);
  await stopChild(b);
});

test('SIGSTOP of the leader: the other leads; resumed, the paused one knows it no longer leads and its fenced write is refused', async () => {
  const prefix = `/t-${process.pid}-${++n}`;
  const a = candidate(prefix, 'a');
  await event(a, 'leading', 5000);
  const b = candidate(prefix, 'b');
  await event(b, 'campaigning', 5000);
  const stoppedAt = Date.now();
  a.proc.kill('SIGSTOP');
  try {
    await event(b, 'leading', TTL * 1000 + 4000);
    console.log(`SIGSTOP: successor leads after ${Date.now() - stoppedAt} ms (TTL ${TTL} s)`);
    b.send('write');
    await event(b, 'write', 5000);
    assert.equal(b.has('write')!.ok, true);
  } finally {
    a.proc.kill('SIGCONT');
  }
  const lost = await event(a, 'lost', 5000);
  // By its own clock, at once on resuming: not from the server (which had long expired the lease).
  assert.match(String(lost.reason), /no keepalive answer/);
  a.send('write'); // sent whatever a believes: etcd must refuse it
  await event(a, 'write', 5000);
  assert.equal(a.has('write')!.ok, false);
  const r = await client.range({ key: Buffer.from(`${prefix}/data`) });
  assert.equal(r.kvs[0].value.toString(), 'b', 'the deposed leader wrote nothing');
  await stopChild(a);
  await stopChild(b);
});

test('a leader cut off from etcd steps down by its own clock, while the server still holds its lease', async () => {
  const prefix = `/t-${process.pid}-${++n}`;
  const m3 = cluster.members[2];
  const a = candidate(prefix, 'a', [m3.client]); // reaches etcd only through m3
  await event(a, 'leading', 5000);
  const others = new EtcdClient({ endpoints: [cluster.members[0].client] });
  const pausedAt = Date.now();
  m3.proc!.kill('SIGSTOP'); // a hung member: a's keepalives go unanswered, with no error
  try {
    const lost = await event(a, 'lost', TTL * 1000 + 2000);
    const lostAfter = Date.now() - pausedAt;
    assert.match(String(lost.reason), /no keepalive answer/);
    // The cluster (m1, m2 keep a quorum) has not expired the lease yet: a stepped down first. A
    // serializable read (m1's own state): should m3 have been the raft leader, linearizable reads
    // fail with 'leader changed' for a moment.
    const keys = await others.range({ key: electionPrefix(prefix, 'sched'), rangeEnd: bytesPrefixEnd(electionPrefix(prefix, 'sched')),
      countOnly: true, serializable: true });
    console.log(`hung member: leader stepped down after ${lostAfter} ms (TTL ${TTL} s), its key still on the server`);
    assert.equal(keys.count, 1, 'its campaign key is still on the server');
  } finally {
    m3.proc!.kill('SIGCONT');
    others.close();
  }
  await stopChild(a);
});

test("the store's fenced txn: applied while its candidate leads, refused with nothing written once it resigned", async () => {
  const prefix = `/t-${process.pid}-${++n}`;
  const store = await openEtcdStore({ endpoints: cluster.endpoints, prefix });
  const own = new EtcdClient({ endpoints: cluster.endpoints });
  try {
    const c = await campaign(own, { prefix, name: 'sched', value: 'me', ttlSec: TTL });
    assert.equal(await c.elected, c.createRevision);
    const ok = await store.txn([{ key: 'a', modRev: 0 }], [{ type: 'put', key: 'a', value: Buffer.from('1') }], { fence: c });
    assert.equal(ok.ok, true);
    await c.resign();
    assert.equal(c.leading(), false);
    await assert.rejects(store.txn([], [{ type: 'put', key: 'b', value: Buffer.from('2') }], { fence: c }), FencedError);
    assert.equal(await store.get('b'), undefined);
    // A failed compare of the store's own is still an ordinary ok: false, not the fence's error.
    const c2 = await campaign(own, { prefix, name: 'sched', value: 'me', ttlSec: TTL });
    await c2.elected;
    assert.equal((await store.txn([{ key: 'a', modRev: 0 }], [{ type: 'put', key: 'a', value: Buffer.from('x') }], { fence: c2 })).ok, false);
    assert.equal((await store.get('a'))!.value.toString(), '1');
    await c2.close();
  } finally {
    own.close();
    await store.close();
  }
});

test('a leader whose key is deleted under its live lease stops leading at once', async () => {
  const prefix = `/t-${process.pid}-${++n}`;
  const own = new EtcdClient({ endpoints: cluster.endpoints });
  try {
    let lostReason: string | undefined;
    const c = await campaign(own, { prefix, name: 'sched', value: 'me', ttlSec: TTL, onLost: (r) => { lostReason = r; } });
    await c.elected;
    assert.equal(c.leading(), true);
    await client.txn({ compare: [], success: [{ requestDeleteRange: { key: c.key } }], failure: [] });
    await waitUntil('the candidate sees its key gone', () => lostReason, TTL * 1000 - 500);
    assert.match(lostReason!, /campaign key is gone/);
    assert.equal(c.leading(), false);
    await c.close();
  } finally {
    own.close();
  }
});

test('replacesSameValue: a key left by an earlier life of the candidate (a killed process) is revoked, not waited for', async () => {
  const prefix = `/t-${process.pid}-${++n}`;
  const own = new EtcdClient({ endpoints: cluster.endpoints });
  try {
    // What a killed process leaves: its campaign key under a lease that nobody keeps alive, for 30 s.
    const pfx = electionPrefix(prefix, 'sched');
    const lease = await client.leaseGrant(30);
    const dead = Buffer.concat([pfx, Buffer.from(BigInt(lease.id).toString(16))]);
    await client.txn({ compare: [], success: [{ requestPut: { key: dead, value: Buffer.from('me'), lease: lease.id } }], failure: [] });
    const startedAt = Date.now();
    const c = await campaign(own, { prefix, name: 'sched', value: 'me', ttlSec: TTL, replacesSameValue: true });
    await waitUntil('elected', () => c.leading(), 5000, { intervalMs: 10 });
    assert.ok(Date.now() - startedAt < TTL * 1000, `elected after ${Date.now() - startedAt} ms`);
    assert.equal((await client.range({ key: dead })).kvs.length, 0, 'the earlier life\'s key is gone with its lease');
    await c.close();
  } finally {
    own.close();
  }
});
