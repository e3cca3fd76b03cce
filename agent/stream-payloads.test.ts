import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SealHandshake } from '../common/session-seal.js';
import { StreamPayloads } from './stream-payloads.js';
import { applyAssignments } from './assignments.js';
import { NodeSecrets } from './secrets/node-secrets.js';
import type { AssignmentsMessage__Output } from '../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignedSecret__Output } from '../proto/gen/hush/v1/AssignedSecret.js';

const EMPTY = Buffer.alloc(0);
const part = (sealPublicKey: Buffer, changes: AssignmentsMessage__Output['changes'] = []): AssignmentsMessage__Output =>
  ({ type: 'COMPLETE', appliesTo: '0', resultsIn: '1', changes, partial: false, sealPublicKey }) as unknown as AssignmentsMessage__Output;
const secret = (id: string, fields: { data?: Buffer; sealed?: Buffer }): AssignedSecret__Output =>
  ({ id, name: id, version: 1, createdAtMs: '1', data: fields.data ?? EMPTY, sealed: fields.sealed ?? EMPTY }) as unknown as AssignedSecret__Output;

/** The manager's end of a stream with this agent end. */
function managerEnd(agent: StreamPayloads) {
  const hs = new SealHandshake();
  return { key: hs.publicKey, chain: hs.agree(agent.publicKey, agent.publicKey, hs.publicKey) };
}

test('a manager that sends no key (older): payloads are taken from data, copied out, the decoded bytes zeroed', () => {
  const p = new StreamPayloads();
  assert.equal(p.onPart(part(EMPTY)), 'unsealed');
  const data = Buffer.from('clear in TLS');
  const got = p.open(secret('a', { data }));
  assert.equal(got.toString(), 'clear in TLS');
  assert.ok(data.every((b) => b === 0), 'the decoded message no longer holds it');
  assert.throws(() => p.open(secret('b', { sealed: Buffer.alloc(40) })), /sealed without a seal key/);
});

test('a sealed stream: payloads open in order; clear data, a second key or use after the end are refused', () => {
  const p = new StreamPayloads();
  const m = managerEnd(p);
  assert.equal(p.onPart(part(m.key)), 'sealed');
  assert.equal(p.onPart(part(EMPTY)), undefined, 'later parts carry no key');
  assert.equal(p.open(secret('a', { sealed: m.chain.seal(Buffer.from('one'), 'a@1') })).toString(), 'one');
  assert.throws(() => p.open(secret('b', { data: Buffer.from('clear') })), /unsealed on a sealed stream/);
  assert.throws(() => p.onPart(part(m.key)), /seal key after the first part/);
  p.wipe();
  assert.throws(() => p.open(secret('c', { sealed: m.chain.seal(Buffer.from('two'), 'c@1') })), /the stream has ended/);
});

test('a message with a payload that does not open applies nothing, and what was opened of it is zeroed', () => {
  const p = new StreamPayloads();
  const m = managerEnd(p);
  p.onPart(part(m.key));
  const good = m.chain.seal(Buffer.from('first'), 'a@1');
  const bad = Buffer.alloc(60, 1);
  const opened: Buffer[] = [];
  const secrets = new NodeSecrets();
  const message = part(EMPTY, [
    { action: 'UPDATE', assignment: { secret: secret('a', { sealed: good }) } },
    { action: 'UPDATE', assignment: { secret: secret('b', { sealed: bad }) } },
  ] as unknown as AssignmentsMessage__Output['changes']);
  assert.throws(() => applyAssignments(secrets, message, (s) => { const b = p.open(s); opened.push(b); return b; }), /does not open/);
  assert.equal(opened.length, 1);
  assert.ok(opened[0].every((b) => b === 0), 'the payload opened before the failure is zeroed');
  assert.equal(secrets.heldVersions, 0, 'nothing applied');
});
