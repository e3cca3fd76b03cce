// The cluster's managers reach a real agent on its Assignments stream: it learns a manager that
// joined, fails over to it (not back to the dead one) when its manager goes, and drops a removed one.
// The manager runs in this process (its Dispatcher is called directly: `hush manager run` does not
// publish a set yet), serving two TLS ports that stand for two managers; the agent is a real
// `hush agent run` with its FUSE mount, checked through `hush agent status` and its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { createLogger } from '../common/log.js';
import { waitUntil } from '../common/testing/wait.js';
import { Manager } from '../manager/manager.js';
import { startTlsServer } from '../manager/server/servers.js';
import { defaultLimits, descriptorLimit } from '../manager/server/limits.js';
import type { TlsPort } from '../manager/server/tls-port.js';
import { RECONNECT_BASE_MS } from '../agent/backoff.js';
import { initManager } from './helpers/manager.js';
import { cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';

const LOST = 'lost the manager: still serving the secrets held in memory';
const CHANGED = 'the cluster\'s managers changed: reconnects try these';

test('an agent learns the managers from its stream, fails over to another one when its manager dies, and drops a removed one', { timeout: 120_000 }, async () => {
  const m = await initManager();
  const root = mkdtempSync(join(tmpdir(), 'hush-mgrset-it-'));
  chmodSync(root, 0o755);
  const log = createLogger('test', new Writable({ write(_c, _e, done) { done(); } }));
  let manager: Manager | undefined;
  const ports: Array<{ server: grpc.Server; tls: TlsPort }> = [];
  let agent: RunningAgent | undefined;
  try {
    manager = await Manager.open(m.stateDir, log);
    const limits = defaultLimits(descriptorLimit().soft);
    const a = await startTlsServer(manager, '127.0.0.1:0', limits, log);
    ports.push(a);
    const b = await startTlsServer(manager, '127.0.0.1:0', limits, log);
    ports.push(b);
    const [addrA, addrB] = [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`];
    const { dispatcher } = manager.unlocked();

    // Started with A only.
    agent = await startAgent({ managerPort: a.port, token: m.workerToken, stateDir: join(root, 'state'), mount: join(root, 'mnt'), hostname: 'n1' });
    let s = await agent.status();
    assert.deepEqual([s.managers, s.managersFrom, s.connection.manager], [[addrA], 'command line', addrA]);

    // B joins the cluster: the agent learns it on the open stream, without reconnecting.
    dispatcher.publishManagers([addrB, addrA]);
    s = await waitUntil('the agent to list both managers', async () => {
      const st = await agent!.status();
      return st.managers.length === 2 && st;
    });
    assert.deepEqual([s.managers, s.managersFrom, s.connection.state, s.connection.manager, s.connection.completes],
      [[addrA, addrB].sort(), 'cluster', 'connected', addrA, 1]);
    assert.deepEqual(agent.logs.filter((l) => l.msg === CHANGED).map((l) => l.managers), [[addrA, addrB].sort()], 'logged once, addresses only');

    // A dies: the agent's next try, after a jittered wait, is B, not A again.
    const since = agent.logs.length;
    ports.splice(ports.indexOf(a), 1);
    a.tls.close();
    a.server.forceShutdown();
    const complete = await agent.waitForLog('assignments complete', 30_000, since);
    assert.equal(complete.manager, addrB);
    const lost = agent.logs.slice(since).filter((l) => l.msg === LOST);
    assert.deepEqual(lost.map((l) => l.manager), [addrA], 'one loss (of A), and no try of A before B');
    assert.ok(Number(lost[0].retryInMs) <= RECONNECT_BASE_MS, `the first retry comes soon (${lost[0].retryInMs} ms)`);
    s = await agent.status();
    assert.deepEqual([s.connection.state, s.connection.manager, s.connection.completes], ['connected', addrB, 2]);

    // A is removed from the cluster: the agent drops it (B's stream tells it).
    dispatcher.publishManagers([addrB]);
    s = await waitUntil('the agent to drop the removed manager', async () => {
      const st = await agent!.status();
      return st.managers.length === 1 && st;
    });
    assert.deepEqual([s.managers, s.connection.manager], [[addrB], addrB]);
    assert.equal(agent.logs.filter((l) => l.msg === CHANGED).length, 2);
  } finally {
    await agent?.stop();
    await cleanUpAgents();
    for (const p of ports) {
      p.tls.close();
      p.server.forceShutdown();
    }
    await manager?.close();
    m.remove();
    rmSync(root, { recursive: true, force: true });
  }
});
