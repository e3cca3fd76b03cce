// Payloads on the Assignments stream are sealed per stream (common/session-seal.ts), end to end
// with a real manager over mutual TLS: what a node receives on the wire holds no plaintext; an older
// agent that sends no seal key still gets its secrets (in TLS only) and the manager says so; a seal
// key that is not a P-256 point is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { distinctive } from './helpers/manager.js';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { waitUntil } from '../common/testing/wait.js';
import type { TestNode } from './helpers/node.js';

describe('sealed payloads on the Assignments stream', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => {
    await c?.close();
  });

  const deliver = async (node: TestNode, name: string) => { // the node joined with hostname = name
    const payload = distinctive(`seal-${name}-`);
    const id = (await c.hush(['secret', 'create', name, '-'], payload)).trim();
    await c.hush(['service', 'create', '--name', name, '--secret', name, '--constraint', `node.hostname==${name}`]);
    await node.until(`${name} delivered`, () => node.secret(id, 1) !== undefined, 30_000);
    return { id, payload };
  };

  test('an agent that sent its seal key gets every payload sealed: no plaintext in the message it decodes', async () => {
    const node = await c.join('sealed');
    const { id, payload } = await deliver(node, 'sealed');
    assert.equal(node.secret(id, 1)!.toString(), payload, 'the payload opens to the value');
    assert.equal(node.clearPayloads, 0, 'no UPDATE carried plaintext in data');
    assert.ok(node.messages[0].sealPublicKey.length === 65, 'the manager sent its key in the first message');
  });

  test('an older agent (no seal key) gets its payloads in TLS only, and the manager logs it once per stream', async () => {
    const node = await c.join('older', {}, { connect: false });
    const since = c.run.logs.length;
    node.open({ seal: false });
    node.startHeartbeats(200);
    await waitUntil('older ready', async () => (await c.nodeState(node.id)) === 'ready', 30_000, { errors: 'fail' });
    const { id, payload } = await deliver(node, 'older');
    assert.equal(node.secret(id, 1)!.toString(), payload);
    assert.ok(node.clearPayloads >= 1);
    const warned = c.run.logs.slice(since).filter((l) => l.nodeId === node.id && /does not seal payloads/.test(String(l.msg)));
    assert.equal(warned.length, 1, 'one warning for the stream');
  });

  test('a seal key that is not a P-256 point ends the stream with INVALID_ARGUMENT, and nothing is sent', async () => {
    const node = await c.join('badkey', {}, { connect: false });
    const bad = Buffer.alloc(65, 9);
    bad[0] = 4;
    node.open({ sealKey: bad });
    await node.until('the stream to end', () => node.streamStatus !== undefined, 30_000);
    assert.equal(node.streamStatus!.code, 3);
    assert.match(node.streamStatus!.details, /^Assignments: the seal public key is not a point on P-256$/);
    assert.equal(node.messages.length, 0);
  });
});
