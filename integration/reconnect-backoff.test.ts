// A manager restart costs a node at most a few seconds of staleness: a real agent keeps retrying a
// manager that is down (SIGKILL) at least every RECONNECT_CAP_MS (agent/backoff.ts), however long it is
// down, so once the manager is back on the same port and state, a change made there (service rm)
// reaches the node's mount within the cap plus slack. Before, the backoff grew to ~12 s by the time a
// 20 s outage ended, and such a change reached the node up to ~15 s late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECONNECT_CAP_MS } from '../agent/backoff.js';
import { distinctive, freePort, hushOk, initManager, startManager, type RunningManager } from './helpers/manager.js';
import { cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';
import { statFile } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';

/** How long the manager stays down: long enough for the old backoff to have passed 10 s. */
const DOWN_MS = 20_000;
/** Time for the agent's COMPLETE to be applied once it is through (two shared cores, slow CI). */
const SLACK_MS = 4000;

const isMissing = (s: Awaited<ReturnType<typeof statFile>>) => 'error' in s && /No such file or directory/.test(s.error);

test('after a manager restart, the agent is back within the backoff cap and a service rm reaches its mount in seconds', { timeout: 120_000 }, async (t) => {
  const m = await initManager();
  const root = mkdtempSync(join(tmpdir(), 'hush-reconnect-it-'));
  chmodSync(root, 0o755);
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  let run: RunningManager | undefined;
  let agent: RunningAgent | undefined;
  try {
    run = await startManager(m.stateDir, { listen });
    await hushOk(['secret', 'create', 'pw', '-'], { env: m.env, input: distinctive() });
    await hushOk(['service', 'create', '--name', 'web', '--secret', 'pw'], { env: m.env });
    agent = await startAgent({ managerPort: port, token: m.workerToken, stateDir: join(root, 'state'), mount: join(root, 'mnt'), hostname: 'n1' });
    const file = join(agent.mount, 'web.1', 'pw');
    await waitUntil('web.1/pw to be served', async () => !('error' in (await statFile(file))));

    // The manager dies; the agent keeps serving and keeps retrying.
    const since = agent.logs.length;
    await run.kill9();
    const downAt = Date.now();
    const retries = () => agent!.logs.slice(since).filter((l) => l.msg === 'lost the manager: still serving the secrets held in memory');
    await waitUntil(`the agent to have been retrying for ${DOWN_MS} ms`, () => Date.now() - downAt >= DOWN_MS && retries().length > 0, DOWN_MS + 30_000);
    assert.ok(!('error' in (await statFile(file))), 'still served while the manager is down');
    const waits = retries().map((l) => Number(l.retryInMs));
    assert.ok(waits.every((w) => Number.isFinite(w) && w <= RECONNECT_CAP_MS), `retry delays while down (ms): ${waits.join(' ')}`);
    assert.ok(waits.length >= DOWN_MS / RECONNECT_CAP_MS, `${waits.length} tries in ${DOWN_MS} ms`);

    // Back on the same port and state; a change made at once must reach the node within cap + slack.
    run = await startManager(m.stateDir, { listen });
    const backAt = Date.now();
    await hushOk(['service', 'rm', 'web'], { env: m.env });
    await waitUntil('web.1 to vanish from the mount', async () => isMissing(await statFile(file)), RECONNECT_CAP_MS + SLACK_MS);
    const lateMs = Date.now() - backAt;
    t.diagnostic(`${waits.length} retries during a ${DOWN_MS / 1000} s outage, longest wait ${Math.max(...waits)} ms; service rm reached the mount ${lateMs} ms after the manager was back`);
  } finally {
    await agent?.stop();
    await cleanUpAgents();
    await run?.stop();
    m.remove();
    rmSync(root, { recursive: true, force: true });
  }
});
