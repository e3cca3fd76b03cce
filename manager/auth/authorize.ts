// Authorization, in one place: who may call which RPC.
// The caller's identity comes only from the transport: the local unix socket
// (root only, mode 0600) is the local admin; on the TLS port it is the verified
// client certificate. Request fields never name the caller.
import type * as grpc from '@grpc/grpc-js';
import { identityFromCertificate, type PeerIdentity } from '../../common/certs.js';
import { permissionDenied, unauthenticated } from '../../common/errors.js';

/** `refused`: a node certificate was presented on an RPC open to anyone, but it is not accepted (why). */
export type Caller = { kind: 'local-admin' } | { kind: 'anonymous'; refused?: string } | { kind: 'node'; identity: PeerIdentity };
export type Transport = 'unix' | 'tls';

type Allowed = 'anyone' | { admin: boolean; roles: Array<'worker' | 'manager'> };

const ADMIN = { admin: true, roles: ['manager'] as Array<'worker' | 'manager'> };
const NODES = { admin: false, roles: ['worker', 'manager'] as Array<'worker' | 'manager'> };

/** RPC name (Service.Method) → who may call it. An RPC missing here is refused. */
const POLICY: Record<string, Allowed> = {
  'CA.GetRootCACertificate': 'anyone',
  'CA.IssueNodeCertificate': 'anyone', // the join token is the credential
  // A valid node certificate, or (checked by the CA service) an expired one with proof of its key.
  'CA.RenewNodeCertificate': 'anyone',
  'Control.Unlock': { admin: true, roles: [] },
  'Control.GetManagerStatus': ADMIN,
  'Control.CreateSecret': ADMIN,
  'Control.UpdateSecret': ADMIN,
  'Control.GetSecret': ADMIN,
  'Control.ListSecrets': ADMIN,
  'Control.RemoveSecret': ADMIN,
  'Control.GetJoinToken': ADMIN,
  'Control.GetUnlockKey': ADMIN,
  'Control.ListNodes': ADMIN,
  'Control.GetNode': ADMIN,
  'Control.UpdateNode': ADMIN,
  'Control.RemoveNode': ADMIN,
  'Control.CreateService': ADMIN,
  'Control.UpdateService': ADMIN,
  'Control.GetService': ADMIN,
  'Control.ListServices': ADMIN,
  'Control.RemoveService': ADMIN,
  'Control.ListTasks': ADMIN,
  'Dispatcher.Assignments': NODES,
  'Dispatcher.Heartbeat': NODES,
  'Dispatcher.UpdateTaskStatus': NODES,
};

export interface MembershipCheck {
  clusterId(): string | undefined;
  /** Why a node identity is no longer accepted (removed, denied certificate), or undefined if it is. */
  refusal(identity: PeerIdentity): Promise<string | undefined>;
}

export class Authorizer {
  constructor(private readonly membership: MembershipCheck) {}

  async authorize(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
    rpc: string, transport: Transport): Promise<Caller> {
    const allowed = POLICY[rpc];
    if (!allowed) throw permissionDenied(`${rpc} is not allowed`);
    if (transport === 'unix') {
      if (allowed === 'anyone' || allowed.admin) return { kind: 'local-admin' };
      throw permissionDenied(`${rpc} is for cluster nodes, not the admin socket`);
    }
    const cert = call.getAuthContext().sslPeerCertificate;
    const identity = cert?.raw ? identityFromCertificate(cert.raw) : undefined;
    if (allowed === 'anyone') {
      if (!identity) return { kind: 'anonymous' };
      const refused = identity.clusterId !== this.membership.clusterId()
        ? `certificate belongs to another cluster (${identity.clusterId})` : await this.membership.refusal(identity);
      return refused ? { kind: 'anonymous', refused } : { kind: 'node', identity };
    }
    if (!identity) throw unauthenticated(`${rpc} requires a node certificate issued by this cluster's CA`);
    if (identity.clusterId !== this.membership.clusterId()) {
      throw permissionDenied(`certificate belongs to another cluster (${identity.clusterId})`);
    }
    if (!allowed.roles.includes(identity.role)) {
      throw permissionDenied(`role ${identity.role} may not call ${rpc}`);
    }
    const refusal = await this.membership.refusal(identity);
    if (refusal) throw permissionDenied(refusal);
    return { kind: 'node', identity };
  }
}
