// A node entitled to more secret bytes than one gRPC message may carry (its receive limit is
// 64 MiB; a secret may be 500 KB): the manager sends the message in parts and the node applies them
// as one. Real manager process, a test node with the agent's own channel options and reassembly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CHANNEL_OPTIONS } from '../agent/channel.js';
import { distinctive, initManager, startManager, type RunningManager } from './helpers/manager.js';
import { controlUnixClient, unary } from './helpers/grpc.js';
import { TestNode } from './helpers/node.js';

const SECRETS = 140;
const SIZE = 511_999;

test('a node entitled to 70 MB of secrets gets them all, in parts applied as one message (INCREMENTAL and COMPLETE)', { timeout: 180_000 }, async () => {
  const limit = CHANNEL_OPTIONS['grpc.max_receive_message_length'] as number;
  assert.ok(SECRETS * SIZE > limit, `the test must exceed the node's receive limit (${limit} bytes)`);
  const m = await initManager();
  let run: RunningManager | undefined;
  const control = controlUnixClient(m.stateDir);
  let node: TestNode | undefined;
  try {
    run = await startManager(m.stateDir);
    node = await TestNode.join(`127.0.0.1:${run.port}`, m.workerToken, 'large');
    node.open();
    node.startHeartbeats(1000);
    await node.until('the first COMPLETE', () => node!.messages.length > 0);

    const payloads = new Map<string, Buffer>();
    const refs = [];
    for (let i = 0; i < SECRETS; i++) {
      const data = Buffer.concat([Buffer.from(distinctive()), randomBytes(SIZE)]).subarray(0, SIZE);
      const { secret } = await unary<{ secret: { id: string } }>(control, 'CreateSecret', { name: `large-${i}`, data, labels: {} }, 30_000);
      payloads.set(secret.id, data);
      refs.push({ secretName: `large-${i}`, target: `f${i}`, uid: 0, gid: 0, mode: 0o400 });
    }
    const holdsAll = () => node!.state.secrets.size === SECRETS && [...payloads].every(([id, data]) => node!.secret(id, 1)?.equals(data));

    // One INCREMENTAL: the service and its 140 references at once.
    const partsBefore = node.partsReceived;
    await unary(control, 'CreateService', { name: 'large', replicas: 1, secrets: refs }, 30_000);
    await node.until('all 140 secrets with their bytes', holdsAll, 60_000);
    assert.equal(node.streamStatus, undefined, 'the stream is still open');
    assert.equal(node.taskNames().length, 1);
    assert.ok(node.partsReceived - partsBefore > 1, `the change came in ${node.partsReceived - partsBefore} parts`);
    assert.ok(node.sequenceIsContinuous(), 'sequence numbers chain over the reassembled messages');

    // A new stream: its COMPLETE, in parts, replaces everything with the same 140.
    node.closeStream();
    node.state.secrets.clear();
    node.state.tasks.clear();
    const messagesBefore = node.messages.length;
    node.open();
    await node.until('the COMPLETE with all 140 secrets', () => node!.messages.length > messagesBefore && holdsAll(), 60_000);
    assert.equal(node.messages[messagesBefore].type, 'COMPLETE');
    assert.equal(node.messages[messagesBefore].changes.filter((c) => c.assignment?.secret).length, SECRETS, 'one COMPLETE holds every secret');
  } finally {
    node?.close();
    control.close();
    await run?.stop();
    m.remove();
  }
});
