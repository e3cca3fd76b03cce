// The policy table, tested whole: every RPC of every service × every kind of caller × both
// transports, against the decisions written out here (a change of policy must change this file).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { hushProto } from '../../proto/load.js';
import { createCsr, generateNodeKey, type NodeRole, type PeerIdentity } from '../../common/certs.js';
import { HushError } from '../../common/errors.js';
import { newId } from '../../common/ids.js';
import { CertificateAuthority, createRootCA } from '../ca/ca.js';
import { rpcName } from '../server/guard.js';
import { Authorizer, type Caller, type Transport } from './authorize.js';
import { POLICY, type Access } from './policy.js';

const DECIDED: Record<string, Access> = {
  'CA.GetRootCACertificate': 'anyone', 'CA.IssueNodeCertificate': 'anyone', 'CA.RenewNodeCertificate': 'anyone',
  'CA.JoinManager': 'anyone', 'Control.ListManagers': 'admin', 'Control.RemoveManager': 'admin',
  'Control.Unlock': 'local-admin', 'Control.GetUnlockKey': 'local-admin',
  'Control.GetManagerStatus': 'admin', 'Control.CreateSecret': 'admin', 'Control.UpdateSecret': 'admin',
  'Control.GetSecret': 'admin', 'Control.ListSecrets': 'admin', 'Control.RemoveSecret': 'admin',
  'Control.GetJoinToken': 'admin', 'Control.ListNodes': 'admin', 'Control.GetNode': 'admin',
  'Control.UpdateNode': 'admin', 'Control.RemoveNode': 'admin', 'Control.CreateService': 'admin',
  'Control.UpdateService': 'admin', 'Control.GetService': 'admin', 'Control.ListServices': 'admin',
  'Control.RemoveService': 'admin', 'Control.ListTasks': 'admin',
  'Dispatcher.Assignments': 'nodes', 'Dispatcher.Heartbeat': 'nodes', 'Dispatcher.UpdateTaskStatus': 'nodes',
};

const clusterId = newId();
const ca = new CertificateAuthority(createRootCA(clusterId));
const foreignCa = new CertificateAuthority(createRootCA(newId()));
const removedNodeId = newId();

function certificate(authority: CertificateAuthority, role: NodeRole, nodeId = newId(), cluster = clusterId): Buffer {
  const { certPem } = authority.issue({ csrPem: createCsr(generateNodeKey()), nodeId, role, clusterId: cluster, validityMs: 3_600_000 });
  return new X509Certificate(certPem).raw;
}

type CallerName = 'no certificate' | 'worker' | 'manager node' | 'other cluster' | 'removed worker' | 'removed manager';
const presented: Record<CallerName, Buffer | undefined> = {
  'no certificate': undefined,
  worker: certificate(ca, 'worker'),
  'manager node': certificate(ca, 'manager'),
  'other cluster': certificate(foreignCa, 'manager', newId(), newId()),
  'removed worker': certificate(ca, 'worker', removedNodeId),
  'removed manager': certificate(ca, 'manager', removedNodeId),
};

const authorizer = new Authorizer({
  clusterId: () => clusterId,
  refusal: async (id: PeerIdentity) => (id.nodeId === removedNodeId ? `node ${id.nodeId} is not a member of this cluster (removed?)` : undefined),
});

/** What a caller gets for an access level: the caller kind it passes as, or the status it is refused with. */
function expected(access: Access, who: CallerName | 'local socket', transport: Transport): Caller['kind'] | status {
  if (transport === 'unix') return access === 'nodes' ? status.PERMISSION_DENIED : 'local-admin';
  if (access === 'local-admin') return status.PERMISSION_DENIED;
  const member = who === 'worker' || who === 'manager node';
  if (access === 'anyone') return member ? 'node' : 'anonymous';
  if (who === 'no certificate') return status.UNAUTHENTICATED;
  if (!member) return status.PERMISSION_DENIED;
  if (access === 'admin') return who === 'manager node' ? 'node' : status.PERMISSION_DENIED;
  return 'node';
}

async function decide(rpc: string, raw: Buffer | undefined, transport: Transport): Promise<Caller['kind'] | status> {
  const call = { getAuthContext: () => ({ transportSecurityType: 'ssl', sslPeerCertificate: raw ? { raw } as never : undefined }) };
  try {
    return (await authorizer.authorize(call, rpc, transport)).kind;
  } catch (e) {
    assert.ok(e instanceof HushError, `${rpc}: ${String(e)}`);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return e.code;
  }
}

test('every method of every service has the policy decided here, and the table names no other method', () => {
  const served = Object.values({ CA: hushProto().CA, Control: hushProto().Control, Dispatcher: hushProto().Dispatcher })
    .flatMap((client) => Object.values(client.service).map((m) => rpcName(m.path)));
  assert.deepEqual([...served].sort(), Object.keys(DECIDED).sort());
  assert.deepEqual(POLICY, DECIDED);
});

test('every RPC × caller × transport: allowed as the expected kind, or refused with the expected status', async () => {
  let checked = 0;
  for (const [rpc, access] of Object.entries(DECIDED)) {
    assert.equal(await decide(rpc, undefined, 'unix'), expected(access, 'local socket', 'unix'), `${rpc} on the unix socket`);
    for (const [who, raw] of Object.entries(presented) as Array<[CallerName, Buffer | undefined]>) {
      assert.equal(await decide(rpc, raw, 'tls'), expected(access, who, 'tls'), `${rpc} over TLS as ${who}`);
      checked++;
    }
  }
  assert.equal(checked, Object.keys(DECIDED).length * Object.keys(presented).length);
});

test('named decisions: a manager node administers the cluster over TLS but never sees or uses the unlock key', async () => {
  const manager = presented['manager node'];
  assert.equal(await decide('Control.CreateSecret', manager, 'tls'), 'node');
  assert.equal(await decide('Control.GetJoinToken', manager, 'tls'), 'node');
  for (const rpc of ['Control.GetUnlockKey', 'Control.Unlock']) {
    assert.equal(await decide(rpc, manager, 'tls'), status.PERMISSION_DENIED, rpc);
    assert.equal(await decide(rpc, undefined, 'unix'), 'local-admin', rpc);
  }
  assert.equal(await decide('Control.ListSecrets', presented.worker, 'tls'), status.PERMISSION_DENIED, 'a worker is no admin');
});

test('an RPC missing from the table is refused for everyone', async () => {
  assert.equal(await decide('Control.DropEverything', undefined, 'unix'), status.PERMISSION_DENIED);
  assert.equal(await decide('Control.DropEverything', presented['manager node'], 'tls'), status.PERMISSION_DENIED);
});

test('a certificate presented on an open RPC is still checked: refused ones pass only as anonymous, with the reason', async () => {
  const call = (raw: Buffer) => ({ getAuthContext: () => ({ transportSecurityType: 'ssl', sslPeerCertificate: { raw } as never }) });
  const removed = await authorizer.authorize(call(presented['removed worker']!), 'CA.RenewNodeCertificate', 'tls');
  assert.deepEqual(removed, { kind: 'anonymous', refused: `node ${removedNodeId} is not a member of this cluster (removed?)` });
  const foreign = await authorizer.authorize(call(presented['other cluster']!), 'CA.RenewNodeCertificate', 'tls');
  assert.equal(foreign.kind, 'anonymous');
  assert.match((foreign as { refused?: string }).refused ?? '', /another cluster/);
});
