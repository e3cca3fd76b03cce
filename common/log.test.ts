import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger } from './log.js';

test('a secret-bearing field logged by mistake is redacted, at the top level and one level down', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const log = createLogger('test', sink);
  const value = 'hush-unit-redact-' + process.pid;
  log.info({ data: value, req: { data: value, token: value, unlockKey: value, keyPem: value, name: 'db' } }, 'oops');
  log.info({ password: value, payload: value }, 'oops again');
  assert.equal(lines.length, 2);
  for (const line of lines) assert.equal(line.includes(value), false, line);
  const first = JSON.parse(lines[0]) as { data: string; req: { name: string; token: string } };
  assert.equal(first.data, '[redacted]');
  assert.equal(first.req.token, '[redacted]');
  assert.equal(first.req.name, 'db', 'other fields are kept');
});
