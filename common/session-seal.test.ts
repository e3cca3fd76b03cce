import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SEAL_OVERHEAD, SealError, SealHandshake, type SealChain } from './session-seal.js';

/** Both ends of one stream, as the agent and the manager agree them. */
function pair(): { manager: SealChain; agent: SealChain } {
  const agentEnd = new SealHandshake();
  const managerEnd = new SealHandshake();
  const manager = managerEnd.agree(agentEnd.publicKey, agentEnd.publicKey, managerEnd.publicKey);
  const agent = agentEnd.agree(managerEnd.publicKey, agentEnd.publicKey, managerEnd.publicKey);
  return { manager, agent };
}

test('payloads sealed by the manager open on the agent, in order, each with its own key', () => {
  const { manager, agent } = pair();
  const values = [randomBytes(0), randomBytes(1), randomBytes(70_000), Buffer.from('same'), Buffer.from('same')];
  const sealed = values.map((v, i) => manager.seal(v, `s${i}@1`));
  for (const [i, s] of sealed.entries()) assert.equal(s.length, values[i].length + SEAL_OVERHEAD);
  // Nothing of the plaintext shows in the sealed bytes, and equal values seal differently.
  assert.ok(!sealed[2].includes(values[2].subarray(0, 16)));
  assert.notDeepEqual(sealed[3].subarray(12), sealed[4].subarray(12));
  for (const [i, s] of sealed.entries()) assert.deepEqual(agent.open(s, `s${i}@1`), values[i]);
});

test('a payload opens only as the next one of its stream, under its own id@version', () => {
  const { manager, agent } = pair();
  const one = manager.seal(Buffer.from('one'), 'a@1');
  const two = manager.seal(Buffer.from('two'), 'a@2');
  assert.throws(() => agent.open(two, 'a@2'), SealError, 'out of order');
  // The failed open used up the first key: the stream is broken from here on (the agent resubscribes).
  assert.throws(() => agent.open(one, 'a@1'), SealError);

  const fresh = pair();
  const x = fresh.manager.seal(Buffer.from('x'), 'a@1');
  assert.throws(() => fresh.agent.open(x, 'a@2'), SealError, 'another version');
  const other = pair();
  const y = other.manager.seal(Buffer.from('y'), 'a@1');
  assert.throws(() => pair().agent.open(y, 'a@1'), SealError, 'another stream');
});

test('a payload opened once cannot be opened again from the chain: its key is gone', () => {
  const { manager, agent } = pair();
  const sealed = manager.seal(Buffer.from('revoked later'), 'a@1');
  assert.equal(agent.open(sealed, 'a@1').toString(), 'revoked later');
  assert.throws(() => agent.open(sealed, 'a@1'), SealError);
});

test('a wiped chain opens nothing; tampered or short payloads are refused', () => {
  const { manager, agent } = pair();
  const sealed = manager.seal(Buffer.from('v'), 'a@1');
  const tampered = Buffer.from(sealed);
  tampered[tampered.length - 1] ^= 1;
  assert.throws(() => agent.open(tampered, 'a@1'), SealError);
  assert.throws(() => agent.open(Buffer.alloc(SEAL_OVERHEAD - 1), 'a@1'), /shorter than its nonce and tag/);
  agent.wipe();
  assert.throws(() => agent.open(manager.seal(Buffer.from('w'), 'a@2'), 'a@2'), /wiped/);
});

test('a public key that is not a P-256 point is refused with a clear error', () => {
  const me = new SealHandshake();
  assert.throws(() => me.agree(Buffer.alloc(10), Buffer.alloc(10), me.publicKey), /65 bytes, not 10/);
  const offCurve = Buffer.alloc(65, 7);
  offCurve[0] = 4;
  assert.throws(() => new SealHandshake().agree(offCurve, offCurve, me.publicKey), /not a point on P-256/);
});
