// The agent locks every secret version it holds in memory (mlock: out of swap). Without CAP_IPC_LOCK
// (the hush-agent unit's bounding set) mlock is bounded by RLIMIT_MEMLOCK; when it fails, the agent
// still serves the secret, logs it once, and `hush agent status` shows how many versions are not
// locked. A real agent, started the second time with the capability dropped and the limit at 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distinctive, freePort, hushOk, initManager, startManager, type RunningManager } from './helpers/manager.js';
import { agentEnv, cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';
import { catFile } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';

const WARNING = /^cannot lock secret memory/;

test('mlock: locked with CAP_IPC_LOCK; without it and over RLIMIT_MEMLOCK, served anyway, logged once, counted in agent status', { timeout: 120_000 }, async (t) => {
  const m = await initManager();
  const root = mkdtempSync(join(tmpdir(), 'hush-mlock-it-'));
  chmodSync(root, 0o755);
  const port = await freePort();
  let run: RunningManager | undefined;
  const agents: RunningAgent[] = [];
  try {
    run = await startManager(m.stateDir, { listen: `127.0.0.1:${port}` });
    const values = [distinctive('mlock-a-'), distinctive('mlock-b-')];
    for (const [i, v] of values.entries()) {
      await hushOk(['secret', 'create', `s${i}`, '-'], { env: m.env, input: v });
    }
    await hushOk(['service', 'create', '--name', 'web', '--secret', 's0', '--secret', 's1', '--mode', 'global'], { env: m.env });

    const serves = async (a: RunningAgent) => {
      for (const [i, v] of values.entries()) {
        await waitUntil(`s${i} served by ${a.stateDir}`, async () => (await catFile(join(a.mount, 'web', `s${i}`))).stdout.toString() === v);
      }
    };
    const status = async (a: RunningAgent) => (await a.status()).memoryLock;
    const text = async (a: RunningAgent) => (await hushOk(['agent', 'status', '--state-dir', a.stateDir], { env: agentEnv() })).stdout;

    const normal = await startAgent({ managerPort: port, token: m.workerToken, stateDir: join(root, 'a'), mount: join(root, 'a-mnt'), hostname: 'a' });
    agents.push(normal);
    await serves(normal);
    assert.deepEqual(await status(normal), { state: 'locked', failures: 0 });
    assert.match(await text(normal), /^Memory lock: every secret locked in memory \(out of swap\)$/m);

    const limited = await startAgent({
      managerPort: port, token: m.workerToken, stateDir: join(root, 'b'), mount: join(root, 'b-mnt'), hostname: 'b',
      wrapper: ['prlimit', '--memlock=0:0', 'setpriv', '--bounding-set=-ipc_lock', '--'],
    });
    agents.push(limited);
    await serves(limited);
    assert.deepEqual(await status(limited), { state: 'failing', failures: 2 }, 'both versions unlocked, counted');
    assert.equal(limited.logs.filter((l) => WARNING.test(String(l.msg))).length, 1, 'logged once');
    assert.match(await text(limited), /^Memory lock: 2 secret version\(s\) could not be locked/m);

    // A rotation adds a version: counted again, not logged again.
    await hushOk(['secret', 'update', 's0', '-'], { env: m.env, input: distinctive('mlock-a2-') });
    await waitUntil('the rotation counted', async () => (await status(limited)).failures === 3);
    assert.equal(limited.logs.filter((l) => WARNING.test(String(l.msg))).length, 1, 'still logged once');
    assert.equal(normal.logs.filter((l) => WARNING.test(String(l.msg))).length, 0);
    t.diagnostic(`unprivileged agent: ${JSON.stringify(await status(limited))}`);
  } finally {
    for (const a of agents) await a.stop();
    await cleanUpAgents();
    await run?.stop();
    m.remove();
    rmSync(root, { recursive: true, force: true });
  }
});
