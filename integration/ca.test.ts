// The manager's CA over its real TLS port: joining with a token, renewal with the node
// certificate, and who may call what with which certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../common/testing/wait.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createCsr, generateNodeKey } from '../common/certs.js';
import { CertificateAuthority, createRootCA } from '../manager/ca/ca.js';
import { parseToken as parseJoinToken, rootDigest as caDigest } from './helpers/tokens.js';
import type { IssueNodeCertificateResponse__Output as Issued } from '../proto/gen/hush/v1/IssueNodeCertificateResponse.js';
import { TestNode } from './helpers/node.js';
import { hush, hushOk, initManager, startManager, type InitializedManager, type RunningManager } from './helpers/manager.js';
import {
  bootstrapCredentials, caClient, controlTlsClient, grpc, statusName, tlsCredentials, unary, unaryError,
} from './helpers/grpc.js';

interface NodeJson {
  id: string;
  hostname: string;
  role: string;
  state: string;
  availability: string;
  labels: Record<string, string>;
  certSerial: string;
  certNotAfter: string;
  createdAt: string;
}

interface Ctx {
  m: InitializedManager;
  run: RunningManager;
  port: number;
  /** Closed at the end of the test. */
  clients: grpc.Client[];
  /** Stops the manager and starts it again on the same state dir. */
  restart(): Promise<void>;
}

async function withManager(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const m = await initManager();
  const clients: grpc.Client[] = [];
  let current: RunningManager | undefined;
  try {
    current = await startManager(m.stateDir);
    assert.ok(current.port && current.port > 0, 'manager ready without a port');
    const ctx: Ctx = {
      m, run: current, port: current.port, clients,
      restart: async () => {
        await current?.stop();
        current = undefined;
        current = await startManager(m.stateDir);
        ctx.run = current;
        ctx.port = current.port!;
      },
    };
    await fn(ctx);
  } finally {
    for (const c of clients) c.close();
    await current?.stop();
    m.remove();
  }
}

function subject(pem: string): Record<string, string> {
  return Object.fromEntries(new X509Certificate(pem).subject.split('\n').map((l) => {
    const i = l.indexOf('=');
    return [l.slice(0, i), l.slice(i + 1)];
  }));
}

function assertChains(certPem: string, rootPem: string): X509Certificate {
  const x = new X509Certificate(certPem);
  const root = new X509Certificate(rootPem);
  assert.equal(x.checkIssued(root), true, 'issued by the root');
  assert.equal(x.verify(root.publicKey), true, 'signed by the root key');
  assert.equal(x.ca, false);
  return x;
}

const nodeList = async (env: NodeJS.ProcessEnv): Promise<NodeJson[]> =>
  (await hushOk(['node', 'ls', '--format', 'json'], { env })).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as NodeJson);

function assertOneLineStatus(err: grpc.ServiceError, codes: grpc.status[], what: string): void {
  assert.ok(codes.includes(err.code), `${what}: expected ${codes.map(statusName).join(' or ')}, got ${statusName(err.code)}: ${err.details}`);
  assert.ok(err.details.length > 0, `${what}: empty details`);
  assert.ok(!err.details.includes('\n'), `${what}: details not one line: ${JSON.stringify(err.details)}`);
}

test('CA over mTLS: root pinned by the token, join with worker and manager tokens, renew, and per-certificate authorization', async (t) => {
  await withManager(async ({ m, run, port, clients }) => {
    // 1. A joiner's first contact: trust nothing, then pin the root by the token's digest.
    const anon = caClient(port, bootstrapCredentials());
    clients.push(anon);
    const { certificatePem: rootPem } = await unary<{ certificatePem: string }>(anon, 'GetRootCACertificate', {});
    const rootX = new X509Certificate(rootPem);
    assert.equal(caDigest(rootX.raw), parseJoinToken(m.workerToken).caDigest, 'root digest matches the worker token');
    assert.equal(caDigest(rootX.raw), parseJoinToken(m.managerToken).caDigest, 'root digest matches the manager token');
    assert.equal(subject(rootPem).O, m.clusterId);
    assert.equal(rootX.ca, true);

    // 2. From now on the root is pinned and the server must prove it is hush-manager.
    const ca = caClient(port, tlsCredentials(rootPem));
    clients.push(ca);
    assert.equal((await unary<{ certificatePem: string }>(ca, 'GetRootCACertificate', {})).certificatePem, rootPem);

    // 3. Join as a worker with a locally generated key: only the CSR leaves the "node".
    const workerKey = generateNodeKey();
    const worker = await unary<Issued>(ca, 'IssueNodeCertificate', {
      csrPem: createCsr(workerKey), token: m.workerToken, hostname: 'worker-1', labels: { zone: 'a' },
    });
    assert.match(worker.nodeId, /^[0-9a-z]{25}$/);
    assert.equal(worker.role, 'worker');
    assert.equal(worker.rootCaPem, rootPem);
    const workerX = assertChains(worker.certificatePem, rootPem);
    assert.deepEqual(subject(worker.certificatePem), { CN: worker.nodeId, OU: 'hush-worker', O: m.clusterId });
    assert.equal(workerX.checkPrivateKey(createPrivateKey(workerKey)), true, 'certifies the CSR key');

    // 4. Refused joins: a well-formed but wrong token, a token for another CA, a malformed token.
    const { caDigest: digest } = parseJoinToken(m.workerToken);
    const csr = createCsr(workerKey);
    const wrongSecret = `HUSH-1-${digest}-${'0'.repeat(25)}`;
    const wrong = await unaryError(ca, 'IssueNodeCertificate', { csrPem: csr, token: wrongSecret, hostname: 'w', labels: {} });
    assertOneLineStatus(wrong, [grpc.status.PERMISSION_DENIED], 'wrong token');
    const otherCa = `HUSH-1-${'1'.repeat(50)}-${parseJoinToken(m.workerToken).secret}`;
    const foreignToken = await unaryError(ca, 'IssueNodeCertificate', { csrPem: csr, token: otherCa, hostname: 'w', labels: {} });
    assertOneLineStatus(foreignToken, [grpc.status.PERMISSION_DENIED], 'token for another CA');
    for (const bad of ['', 'not-a-token', m.workerToken + 'x', m.workerToken.toUpperCase()]) {
      const err = await unaryError(ca, 'IssueNodeCertificate', { csrPem: csr, token: bad, hostname: 'w', labels: {} });
      assertOneLineStatus(err, [grpc.status.INVALID_ARGUMENT], `malformed token ${JSON.stringify(bad)}`);
    }
    const badCsr = await unaryError(ca, 'IssueNodeCertificate', { csrPem: 'garbage', token: m.workerToken, hostname: 'w', labels: {} });
    assertOneLineStatus(badCsr, [grpc.status.INVALID_ARGUMENT], 'malformed CSR');

    // 5. Join as a manager.
    const managerKey = generateNodeKey();
    const mgr = await unary<Issued>(ca, 'IssueNodeCertificate', {
      csrPem: createCsr(managerKey), token: m.managerToken, hostname: 'manager-2', labels: {},
    });
    assert.equal(mgr.role, 'manager');
    assertChains(mgr.certificatePem, rootPem);
    assert.deepEqual(subject(mgr.certificatePem), { CN: mgr.nodeId, OU: 'hush-manager', O: m.clusterId });
    assert.notEqual(mgr.nodeId, worker.nodeId);

    // 6. Both nodes are listed by the CLI (no failed joins were recorded).
    const nodes = await nodeList(m.env);
    const w = nodes.find((n) => n.id === worker.nodeId);
    const mg = nodes.find((n) => n.id === mgr.nodeId);
    assert.ok(w, `worker ${worker.nodeId} not in node ls: ${JSON.stringify(nodes)}`);
    assert.ok(mg, `manager ${mgr.nodeId} not in node ls`);
    assert.equal(w.role, 'worker');
    assert.equal(w.hostname, 'worker-1');
    assert.deepEqual(w.labels, { zone: 'a' });
    assert.equal(w.certSerial, workerX.serialNumber.toLowerCase());
    assert.equal(Date.parse(w.certNotAfter), Date.parse(workerX.validTo));
    assert.equal(mg.role, 'manager');
    assert.equal(nodes.filter((n) => n.hostname === 'w').length, 0, 'a refused join was recorded');

    // 7. Renewal, authenticated by the current worker certificate: same node, new key, new serial.
    const asWorker = caClient(port, tlsCredentials(rootPem, workerKey, worker.certificatePem));
    clients.push(asWorker);
    const newKey = generateNodeKey();
    const renewed = await unary<Issued>(asWorker, 'RenewNodeCertificate', { csrPem: createCsr(newKey) });
    assert.equal(renewed.nodeId, worker.nodeId);
    assert.equal(renewed.role, 'worker');
    const renewedX = assertChains(renewed.certificatePem, rootPem);
    assert.deepEqual(subject(renewed.certificatePem), { CN: worker.nodeId, OU: 'hush-worker', O: m.clusterId });
    assert.notEqual(renewedX.serialNumber, workerX.serialNumber);
    const [inspected] = JSON.parse((await hushOk(['node', 'inspect', worker.nodeId], { env: m.env })).stdout) as NodeJson[];
    assert.equal(inspected.certSerial, renewedX.serialNumber.toLowerCase(), 'the registry records the new serial');
    // The renewed certificate works as a client certificate too.
    const asRenewed = caClient(port, tlsCredentials(rootPem, newKey, renewed.certificatePem));
    clients.push(asRenewed);
    const third = await unary<Issued>(asRenewed, 'RenewNodeCertificate', { csrPem: createCsr(newKey) });
    assert.equal(third.nodeId, worker.nodeId);
    // Accepted now: the newest certificate (third) and the one its renewal was made with (renewed).
    // The first one, replaced twice, is refused: a stolen old key is worth nothing once the node renewed.
    const replaced = await unaryError(asWorker, 'RenewNodeCertificate', { csrPem: createCsr(workerKey) });
    assertOneLineStatus(replaced, [grpc.status.PERMISSION_DENIED], 'RenewNodeCertificate with a replaced certificate');
    assert.match(replaced.details, /was replaced by a renewal/);
    // A renewal whose answer was lost does not lock the node out: it renews again with the same certificate.
    const fourth = await unary<Issued>(asRenewed, 'RenewNodeCertificate', { csrPem: createCsr(newKey) });
    // Once the node uses its newest certificate, the one it replaced is refused too.
    const asNode = (certificatePem: string) => {
      const n = new TestNode(`127.0.0.1:${port}`, { nodeId: worker.nodeId, role: 'worker', keyPem: newKey, certPem: certificatePem, caPem: rootPem });
      clients.push({ close: () => n.close() } as grpc.Client);
      return n;
    };
    const oldStream = asNode(renewed.certificatePem);
    await oldStream.heartbeat(); // still accepted...
    oldStream.open(); // ... for a stream too
    await oldStream.until('the COMPLETE on the stream opened with the previous certificate', () => oldStream.messages.length > 0);
    await asNode(fourth.certificatePem).heartbeat(); // the node uses its newest certificate
    const old = asNode(renewed.certificatePem);
    const err = await waitUntil('the replaced certificate to be refused once the node used its new one',
      () => old.heartbeat().then(() => undefined, (e: grpc.ServiceError) => e), 5000, { intervalMs: 20, errors: 'fail' });
    assertOneLineStatus(err, [grpc.status.PERMISSION_DENIED], 'Heartbeat with the certificate the node has replaced');
    assert.match(err.details, /was replaced by a renewal/);
    assert.ok(run.logs.some((l) => String(l.msg).startsWith('node uses its renewed certificate') && l.nodeId === worker.nodeId));
    // The stream opened with the certificate now refused is cut.
    await oldStream.until('the stream opened with the replaced certificate is cut', () => oldStream.streamStatus !== undefined);
    assert.equal(oldStream.streamStatus!.code, grpc.status.PERMISSION_DENIED);
    assert.match(oldStream.streamStatus!.details, /replaced by a renewal/);

    // 8. Control over TLS: a worker certificate is not an admin.
    const controlAsWorker = controlTlsClient(port, tlsCredentials(rootPem, workerKey, worker.certificatePem));
    clients.push(controlAsWorker);
    for (const method of ['ListSecrets', 'GetJoinToken', 'ListNodes']) {
      const err = await unaryError(controlAsWorker, method, { role: 'worker' });
      assertOneLineStatus(err, [grpc.status.PERMISSION_DENIED], `${method} as worker`);
    }
    const createAsWorker = await unaryError(controlAsWorker, 'CreateSecret', { name: 'x', data: Buffer.from('y'), labels: {} });
    assertOneLineStatus(createAsWorker, [grpc.status.PERMISSION_DENIED], 'CreateSecret as worker');

    // ... a manager certificate is (positive control for the refusals).
    const controlAsManager = controlTlsClient(port, tlsCredentials(rootPem, managerKey, mgr.certificatePem));
    clients.push(controlAsManager);
    assert.deepEqual((await unary<{ secrets: unknown[] }>(controlAsManager, 'ListSecrets', {})).secrets, []);
    // ... but the unlock key never leaves the manager's own machine, not even to a manager node.
    for (const method of ['GetUnlockKey', 'Unlock']) {
      const err = await unaryError(controlAsManager, method, { rotate: false, unlockKey: '' });
      assertOneLineStatus(err, [grpc.status.PERMISSION_DENIED], `${method} as a manager node over TLS`);
      assert.match(err.details, /only on the manager's local control socket/);
    }

    // 9. A certificate from a foreign CA that claims the same cluster id and the manager role.
    const foreign = new CertificateAuthority(createRootCA(m.clusterId));
    const foreignKey = generateNodeKey();
    const foreignCert = foreign.issue({
      csrPem: createCsr(foreignKey), nodeId: mgr.nodeId, role: 'manager', clusterId: m.clusterId, validityMs: 3_600_000,
    });
    const controlAsForeign = controlTlsClient(port, tlsCredentials(rootPem, foreignKey, foreignCert.certPem));
    clients.push(controlAsForeign);
    const refusedCodes = [grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED];
    const foreignErr = await unaryError(controlAsForeign, 'ListSecrets', {});
    assertOneLineStatus(foreignErr, refusedCodes, 'ListSecrets with a foreign certificate');
    t.diagnostic(`foreign certificate: ${statusName(foreignErr.code)}: ${foreignErr.details}`);
    assertOneLineStatus(await unaryError(controlAsForeign, 'GetJoinToken', { role: 'manager' }), refusedCodes, 'GetJoinToken with a foreign certificate');
    const caAsForeign = caClient(port, tlsCredentials(rootPem, foreignKey, foreignCert.certPem));
    clients.push(caAsForeign);
    assertOneLineStatus(await unaryError(caAsForeign, 'RenewNodeCertificate', { csrPem: createCsr(foreignKey) }), refusedCodes, 'RenewNodeCertificate with a foreign certificate');

    // 10. No client certificate at all.
    const controlAnon = controlTlsClient(port, tlsCredentials(rootPem));
    clients.push(controlAnon);
    assertOneLineStatus(await unaryError(controlAnon, 'ListSecrets', {}), [grpc.status.UNAUTHENTICATED], 'ListSecrets without a certificate');
    assertOneLineStatus(await unaryError(ca, 'RenewNodeCertificate', { csrPem: createCsr(newKey) }), [grpc.status.UNAUTHENTICATED], 'RenewNodeCertificate without a certificate');

    // Nothing of this made the manager fail internally, and nothing was created.
    assert.deepEqual((await hushOk(['secret', 'ls', '-q'], { env: m.env })).stdout, '');
    assert.equal((await nodeList(m.env)).length, nodes.length);
    assert.ok(!run.logs.some((l) => (l.level ?? 0) >= 50), `manager logged errors:\n${run.stderr()}`);
    assert.ok(run.logs.some((l) => l.msg === 'node joined' && l.nodeId === worker.nodeId));
  });
});

test('join token rotation: the old token is refused, the new one works, joined nodes keep working', async () => {
  await withManager(async (ctx) => {
    const { m, port, clients } = ctx;
    const anon = caClient(port, bootstrapCredentials());
    clients.push(anon);
    const { certificatePem: rootPem } = await unary<{ certificatePem: string }>(anon, 'GetRootCACertificate', {});
    const ca = caClient(port, tlsCredentials(rootPem));
    clients.push(ca);
    const key = generateNodeKey();
    const csrPem = createCsr(key);
    const join = (token: string) => unary<Issued>(ca, 'IssueNodeCertificate', { csrPem, token, hostname: 'node-a', labels: {} });

    // A node that joined before the rotation.
    const before = await join(m.workerToken);

    const rotated = await hushOk(['join-token', 'worker', '--rotate'], { env: m.env });
    assert.match(rotated.stdout, /^Successfully rotated worker join token\.$/m);
    const newToken = /HUSH-1-[0-9a-z]{50}-[0-9a-z]{25}/.exec(rotated.stdout)?.[0];
    assert.ok(newToken, `no token in ${rotated.stdout}`);
    assert.notEqual(newToken, m.workerToken);
    assert.equal(parseJoinToken(newToken).caDigest, parseJoinToken(m.workerToken).caDigest, 'same CA, same digest');
    assert.equal((await hushOk(['join-token', 'worker', '-q'], { env: m.env })).stdout, `${newToken}\n`);

    const old = await unaryError(ca, 'IssueNodeCertificate', { csrPem, token: m.workerToken, hostname: 'node-b', labels: {} });
    assertOneLineStatus(old, [grpc.status.PERMISSION_DENIED], 'rotated-out worker token');
    const fresh = await join(newToken);
    assert.equal(fresh.role, 'worker');
    assert.equal(subject(fresh.certificatePem).OU, 'hush-worker');
    // The manager token is untouched by a worker rotation.
    assert.equal((await join(m.managerToken)).role, 'manager');

    // Manager token rotation, quiet: only the token is printed.
    const q = await hushOk(['join-token', 'manager', '--rotate', '-q'], { env: m.env });
    assert.match(q.stdout, /^HUSH-1-[0-9a-z]{50}-[0-9a-z]{25}\n$/);
    const newManagerToken = q.stdout.trim();
    assert.notEqual(newManagerToken, m.managerToken);
    assertOneLineStatus(await unaryError(ca, 'IssueNodeCertificate', { csrPem, token: m.managerToken, hostname: 'node-c', labels: {} }),
      [grpc.status.PERMISSION_DENIED], 'rotated-out manager token');
    assert.equal((await join(newManagerToken)).role, 'manager');
    // The worker token did not change with it.
    assert.equal((await join(newToken)).role, 'worker');

    // The node that joined with the old token still renews with its certificate.
    const asBefore = caClient(port, tlsCredentials(rootPem, key, before.certificatePem));
    clients.push(asBefore);
    assert.equal((await unary<Issued>(asBefore, 'RenewNodeCertificate', { csrPem })).nodeId, before.nodeId);

    const bad = await hush(['join-token', 'nobody'], { env: m.env });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /^Error: unknown role "nobody"[^\n]*\n$/);

    // The rotations are durable: after a restart the new tokens are served and the old refused.
    await ctx.restart();
    assert.equal((await hushOk(['join-token', 'worker', '-q'], { env: m.env })).stdout, `${newToken}\n`);
    assert.equal((await hushOk(['join-token', 'manager', '-q'], { env: m.env })).stdout, `${newManagerToken}\n`);
    const ca2 = caClient(ctx.port, tlsCredentials(rootPem));
    clients.push(ca2);
    assertOneLineStatus(await unaryError(ca2, 'IssueNodeCertificate', { csrPem, token: m.workerToken, hostname: 'node-d', labels: {} }),
      [grpc.status.PERMISSION_DENIED], 'old worker token after restart');
    assert.equal((await unary<Issued>(ca2, 'IssueNodeCertificate', { csrPem, token: newToken, hostname: 'node-d', labels: {} })).role, 'worker');
    const ids = (await nodeList(m.env)).map((n) => n.id);
    assert.ok(ids.includes(before.nodeId) && ids.includes(fresh.nodeId), 'joined nodes survive the restart');
  });
});
