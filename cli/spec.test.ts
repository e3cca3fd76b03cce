import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMode, parseReplicas, parseSecretSpec, referenceToWire } from './spec.js';

test('SPEC: a bare name, with an optional pinned version; uid, gid, mode and target left to the manager (its defaults: 0:0 0400)', () => {
  assert.deepEqual(parseSecretSpec('db_password'), { source: 'db_password' });
  assert.deepEqual(parseSecretSpec('db_password@3'), { source: 'db_password', version: 3 });
  assert.deepEqual(referenceToWire(parseSecretSpec('db_password')), { secretName: 'db_password', version: 0, target: '' });
});

test('SPEC: key=value form with every key', () => {
  assert.deepEqual(parseSecretSpec('source=tls.key@2,target=server.key,uid=33,gid=4294967294,mode=0440'), {
    source: 'tls.key', version: 2, target: 'server.key', uid: 33, gid: 4294967294, mode: 0o440,
  });
  assert.deepEqual(parseSecretSpec('src=a,mode=600'), { source: 'a', mode: 0o600 });
  assert.deepEqual(parseSecretSpec('target=t,source=a'), { source: 'a', target: 't' });
  assert.deepEqual(referenceToWire(parseSecretSpec('source=a@1,target=t,mode=0')), { secretName: 'a', version: 1, target: 't', mode: 0 }, 'an explicit mode 0 is sent');
});

test('modes are octal, permission bits only', () => {
  assert.equal(parseMode('0400'), 0o400);
  assert.equal(parseMode('400'), 0o400);
  assert.equal(parseMode('0o440'), 0o440);
  assert.equal(parseMode('0777'), 0o777);
  assert.equal(parseMode('0'), 0);
  for (const bad of ['0999', '8', 'abc', '', '0x1ff', '-400', '0400 ', '4e2', '0o', '1_0']) {
    assert.throws(() => parseMode(bad), /^Error: invalid mode ".*": an octal file mode/, JSON.stringify(bad));
  }
  for (const bad of ['4755', '04755', '2755', '1777', '07777', '01000']) {
    assert.throws(() => parseMode(bad), /no setuid, setgid or sticky bit/, bad);
  }
  assert.throws(() => parseMode('0'.repeat(12) + '7'), /an octal file mode/);
  assert.throws(() => parseMode('77777777'), /^Error: invalid mode/);
});

test('bad SPECs are refused with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /invalid secret reference ""/],
    ['source=a,target=..', /invalid target "\.\."/],
    ['source=a,target=a/b', /invalid target "a\/b"/],
    ['source=a,target=.', /invalid target "\."/],
    ['source=a,target=', /target is empty/],
    ['source=a,mode=0999', /invalid mode "0999"/],
    ['source=a,mode=4755', /invalid mode 04755: .*no setuid/],
    ['source=a,mode=abc', /invalid mode "abc"/],
    ['source=a,uid=-1', /invalid uid "-1"/],
    ['source=a,uid=4294967295', /invalid uid/],
    ['source=a,gid=1.5', /invalid gid "1.5"/],
    ['source=a,gid=99999999999', /invalid gid/],
    ['target=x', /source=NAME is required/],
    ['source=a,source=b', /source is given twice/],
    ['source=a,src=b', /source is given twice/],
    ['source=a,foo=1', /unknown key "foo"/],
    ['source=a,,target=b', /"" is not key=value/],
    ['source=a,target', /"target" is not key=value/],
    ['=a', /"=a" is not key=value/],
    ['a,b', /expected NAME or key=value pairs/],
    ['a@', /version "" is not a whole number/],
    ['a@x', /version "x" is not a whole number/],
    ['a@0', /versions start at 1/],
    ['a@-1', /version "-1" is not a whole number/],
    ['a@1@2', /more than one @/],
    ['../x', /invalid secret name "\.\.\/x"/],
    ['source=a b', /invalid secret name "a b"/],
    ['source=@1', /source secret name is empty/],
    ['x'.repeat(2000), /longer than 1024 characters/],
  ];
  for (const [spec, error] of cases) assert.throws(() => parseSecretSpec(spec), error, JSON.stringify(spec));
});

test('--replicas: whole numbers up to 10,000; creation needs at least 1', () => {
  assert.equal(parseReplicas('0'), 0);
  assert.equal(parseReplicas('10000'), 10_000);
  assert.equal(parseReplicas('007'), 7);
  assert.equal(parseReplicas('3', 1), 3);
  assert.throws(() => parseReplicas('0', 1), /a service is created with 1 to 10000 replicas/);
  assert.throws(() => parseReplicas('10001'), /^Error: too many replicas \(10001\): at most 10000 per service$/);
  assert.throws(() => parseReplicas('100000000'), /too many replicas \(100000000\)/);
  assert.throws(() => parseReplicas('9'.repeat(400)), /too many replicas \(9{20}…\)/);
  for (const bad of ['-1', 'abc', '', '1.5', '1e3', ' 1', '0x10', '+1']) {
    assert.throws(() => parseReplicas(bad), /^Error: invalid --replicas ".*": a whole number from 0 to 10000$/, JSON.stringify(bad));
  }
});
