import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { HushError } from '../common/errors.js';
import { createRootCA } from '../manager/ca/ca.js';
import { caDigest, newJoinToken, parseJoinToken, tokenMatches } from '../common/join-token.js';

const rootDer = new X509Certificate(createRootCA('cluster1').certPem).raw;
const otherDer = new X509Certificate(createRootCA('cluster1').certPem).raw;

test('join token has the HUSH-1-<50 base36>-<25 base36> shape', () => {
  const token = newJoinToken(rootDer);
  assert.match(token, /^HUSH-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  assert.notEqual(newJoinToken(rootDer), token, 'the secret part is random');
});

test('caDigest is the sha256 of the root certificate DER, in base36', () => {
  const digest = caDigest(rootDer);
  assert.match(digest, /^[0-9a-z]{50}$/);
  const hex = createHash('sha256').update(rootDer).digest('hex');
  assert.equal(BigInt('0x' + hex), [...digest].reduce((n, c) => n * 36n + BigInt(parseInt(c, 36)), 0n));
  assert.notEqual(caDigest(otherDer), digest);
});

test('parseJoinToken returns the digest of the root the token was made for', () => {
  const token = newJoinToken(rootDer);
  const parsed = parseJoinToken(token);
  assert.equal(parsed.caDigest, caDigest(rootDer));
  assert.equal(token, `HUSH-1-${parsed.caDigest}-${parsed.secret}`);
  assert.match(parsed.secret, /^[0-9a-z]{25}$/);
});

test('parseJoinToken rejects malformed tokens', () => {
  const good = newJoinToken(rootDer);
  const { caDigest: d, secret: s } = parseJoinToken(good);
  const bad = [
    '',
    'garbage',
    `HUSH-2-${d}-${s}`,
    `SWMTKN-1-${d}-${s}`,
    `hush-1-${d}-${s}`,
    `HUSH-1-${d.slice(1)}-${s}`,
    `HUSH-1-${d}-${s}0`,
    `HUSH-1-${d.toUpperCase()}-${s}`,
    `HUSH-1-${d}-${s.slice(0, 24)}_`,
    `HUSH-1-${d}${s}`,
    ` ${good}`,
    `${good}\n`,
    `${good}-x`,
  ];
  for (const token of bad) {
    assert.throws(() => parseJoinToken(token), (e: unknown) => {
      assert.ok(e instanceof HushError);
      assert.equal(e.message, 'invalid join token format');
      return true;
    }, JSON.stringify(token));
  }
  assert.throws(() => parseJoinToken(undefined as unknown as string), /invalid join token format/);
});

test('tokenMatches compares whole tokens', () => {
  const token = newJoinToken(rootDer);
  assert.equal(tokenMatches(token, token), true);
  assert.equal(tokenMatches(newJoinToken(rootDer), token), false);
  assert.equal(tokenMatches(token.slice(0, -1) + (token.endsWith('0') ? '1' : '0'), token), false);
  // Different lengths are just a mismatch, not an exception.
  assert.equal(tokenMatches(token.slice(0, 10), token), false);
  assert.equal(tokenMatches(token + 'x', token), false);
  assert.equal(tokenMatches('', token), false);
  // An unset expected token never matches.
  assert.equal(tokenMatches('', ''), false);
});
