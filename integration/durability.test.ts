// Durability: every create the manager acknowledged survives kill -9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { distinctive, hushOk, initManager, startManager, type RunningManager } from './helpers/manager.js';
import { controlUnixClient, grpc, unary } from './helpers/grpc.js';
import { assertNoPlaintext, assertStateModes, needle } from './helpers/disk.js';

interface SecretJson {
  id: string;
  name: string;
  versions: Array<{ version: number; size: number }>;
}

test('durability: every acknowledged create survives kill -9 of the manager; no value on disk in clear', async (t) => {
  const m = await initManager();
  let run: RunningManager | undefined;
  let client: grpc.Client | undefined;
  try {
    run = await startManager(m.stateDir);
    const victim = run;
    client = controlUnixClient(m.stateDir);

    const acked = new Map<string, Buffer>(); // name → value, for creates that returned OK
    const attempted = new Map<string, Buffer>();
    let inFlight: string | undefined;
    let failure: grpc.ServiceError | undefined;
    let killed = false;
    const startedAt = Date.now();
    // kill -9 after ~1 s of creates (and at least 10 acknowledged, should the machine be slow),
    // while the loop keeps going: a create is usually in flight when the manager dies.
    let killer: NodeJS.Timeout | undefined;
    const armKiller = (ms: number) => {
      killer = setTimeout(() => {
        if (acked.size < 10 && Date.now() - startedAt < 20_000) return armKiller(100);
        killed = true;
        void victim.kill9();
      }, ms);
    };
    armKiller(1000);
    try {
      for (let i = 0; !failure && i < 1_000_000; i++) {
        const name = `d-${String(i).padStart(6, '0')}`;
        // Mostly text values; every 10th a 1 KB random binary value.
        const value = i % 10 === 9 ? randomBytes(1024) : Buffer.from(distinctive());
        attempted.set(name, value);
        inFlight = name;
        try {
          await unary(client, 'CreateSecret', { name, data: value, labels: { i: String(i) } }, 5000);
          acked.set(name, value);
          inFlight = undefined;
        } catch (e) {
          failure = e as grpc.ServiceError;
        }
      }
    } finally {
      clearTimeout(killer);
    }
    assert.ok(killed, `the create loop stopped before the kill: ${failure?.message}`);
    // The loop ended because the manager went away, not because a create was refused.
    const transport = [grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.CANCELLED];
    assert.ok(failure && transport.includes(failure.code), `creates stopped with ${failure?.message}`);
    await victim.exited;
    assert.equal(victim.proc.signalCode, 'SIGKILL');
    t.diagnostic(`${acked.size} creates acknowledged in ${Date.now() - startedAt} ms before kill -9`);
    assert.ok(acked.size >= 10, `only ${acked.size} creates were acknowledged`);
    client.close();
    client = undefined;

    // What kill -9 left (WAL not checkpointed) holds no value in clear.
    const values = [...attempted].map(([name, v]) => needle(`value of ${name}`, v));
    const scanned = assertNoPlaintext(m.stateDir, values, 'after kill -9');
    assert.ok(scanned.files.some((f) => f.endsWith('manager.db-wal')), 'expected an un-checkpointed WAL after kill -9');
    assertStateModes(m.stateDir);

    // Restart on the same state dir (stale socket included) and compare.
    run = await startManager(m.stateDir);
    const listed = (await hushOk(['secret', 'ls', '--format', 'json'], { env: m.env })).stdout
      .split('\n').filter(Boolean).map((l) => JSON.parse(l) as SecretJson);
    const byName = new Map(listed.map((s) => [s.name, s]));
    const lost = [...acked.keys()].filter((n) => !byName.has(n));
    assert.deepEqual(lost, [], `${lost.length} acknowledged creates lost after kill -9`);
    // Nothing else appeared: at most the one create that was in flight at the kill.
    const extra = listed.map((s) => s.name).filter((n) => !acked.has(n));
    assert.ok(extra.length === 0 || (extra.length === 1 && extra[0] === inFlight), `unexpected secrets after restart: ${extra.join(', ')}`);
    for (const [name, value] of acked) {
      const s = byName.get(name)!;
      assert.deepEqual(s.versions.map((v) => [v.version, v.size]), [[1, value.length]], name);
    }
    // The recovered store still takes writes.
    const updated = distinctive();
    await hushOk(['secret', 'update', [...acked.keys()][0], '-'], { env: m.env, input: updated });
    const fresh = distinctive();
    await hushOk(['secret', 'create', 'after-restart', '-'], { env: m.env, input: fresh });
    values.push(needle('update after restart', updated), needle('create after restart', fresh));

    assertNoPlaintext(m.stateDir, values, 'restarted manager running');
    assert.ok(assertStateModes(m.stateDir).includes('control.sock'));
    await run.stop();
    assertNoPlaintext(m.stateDir, values, 'manager stopped');
    assertStateModes(m.stateDir);
  } finally {
    client?.close();
    await run?.kill9();
    m.remove();
  }
});
