import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressKey, ConnectionGate } from './connection-gate.js';
import { defaultLimits } from './limits.js';

test('addresses are counted as IPv4, IPv4-mapped as IPv4, IPv6 by /64', () => {
  assert.equal(addressKey('10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8:1:2::ffff'), addressKey('2001:0db8:0001:0002:1:2:3:4'));
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
});

test('per-address cap refuses the newcomer; the total cap evicts the oldest; closing frees the count', () => {
  const gate = new ConnectionGate({ ...defaultLimits(1000), maxPending: 3, maxPendingPerAddress: 2 });
  const never = () => false;
  assert.equal(gate.admit('a', never), undefined);
  assert.equal(gate.admit('a', never), undefined);
  assert.equal(gate.admit('a', never), 'pending-per-address');
  assert.equal(gate.admit('b', never), undefined);
  assert.equal(gate.admit('c', never), 'pending-total', 'nothing to evict');
  let evicted = 0;
  assert.equal(gate.admit('c', () => { gate.evicted('a', 'pending'); evicted++; return true; }), undefined);
  assert.equal(evicted, 1);
  assert.deepEqual(gate.counts(), { pending: 3, anonymous: 0, nodes: 0 });
  assert.deepEqual(gate.secured('b', true, never), { stage: 'node' });
  gate.closed('b', 'node');
  gate.closed('c', 'pending');
  assert.deepEqual(gate.counts(), { pending: 1, anonymous: 0, nodes: 0 });
  const report = gate.takeReport()!;
  assert.deepEqual(report.dropped, { 'pending-per-address': 1, 'pending-total': 1, 'pending-evicted': 1 });
  assert.equal(report.addresses[0].address, 'a');
  assert.equal(gate.takeReport(), undefined, 'a report resets the counts');
});

test('default caps leave half the descriptors (less 64) as the reserve', () => {
  for (const nofile of [400, 1024, 20_000, 65_536]) {
    const l = defaultLimits(nofile);
    assert.ok(l.maxPending + l.maxAnonymous <= (nofile - 64) / 2, `${nofile}`);
    assert.ok(l.maxPendingPerAddress < l.maxPending && l.maxAnonymousPerAddress < l.maxAnonymous);
  }
});
