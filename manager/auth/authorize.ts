// Authorization, in one place: who may call which RPC (the table is manager/auth/policy.ts).
// The caller's identity comes only from the transport: the local unix socket
// (root only, mode 0600) is the local admin; on the TLS port it is the verified
// client certificate. Request fields never name the caller.
import type * as grpc from '@grpc/grpc-js';
import { identityFromCertificate, type PeerIdentity } from '../../common/certs.js';
import { permissionDenied, unauthenticated } from '../../common/errors.js';
import { accessFor, ROLES_FOR } from './policy.js';

/**
 * Who is calling. `refused`: a node certificate was presented on an RPC open to anyone, but it is
 * not accepted (why). A new kind (human users) is added here and decided in `authorize` below.
 */
export type Caller = { kind: 'local-admin' } | { kind: 'anonymous'; refused?: string } | { kind: 'node'; identity: PeerIdentity };
export type Transport = 'unix' | 'tls';

/** What the authorizer reads of a call: its TLS peer. Both unary calls and streams have it. */
export type AuthorizedCall = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'getAuthContext'>;

export interface MembershipCheck {
  clusterId(): string | undefined;
  /** Why a node identity is no longer accepted (removed, denied certificate), or undefined if it is. */
  refusal(identity: PeerIdentity): Promise<string | undefined>;
}

export class Authorizer {
  constructor(private readonly membership: MembershipCheck) {}

  async authorize(call: AuthorizedCall, rpc: string, transport: Transport): Promise<Caller> {
    const access = accessFor(rpc);
    if (!access) throw permissionDenied(`${rpc} is not allowed`);
    if (transport === 'unix') {
      if (access === 'nodes') throw permissionDenied(`${rpc} is for cluster nodes, not the admin socket`);
      return { kind: 'local-admin' };
    }
    if (access === 'local-admin') throw permissionDenied(`${rpc} is served only on the manager's local control socket`);
    const cert = call.getAuthContext().sslPeerCertificate;
    const identity = cert?.raw ? identityFromCertificate(cert.raw) : undefined;
    if (access === 'anyone') {
      if (!identity) return { kind: 'anonymous' };
      const refused = identity.clusterId !== this.membership.clusterId()
        ? `certificate belongs to another cluster (${identity.clusterId})` : await this.membership.refusal(identity);
      return refused ? { kind: 'anonymous', refused } : { kind: 'node', identity };
    }
    if (!identity) throw unauthenticated(`${rpc} requires a node certificate issued by this cluster's CA`);
    if (identity.clusterId !== this.membership.clusterId()) {
      throw permissionDenied(`certificate belongs to another cluster (${identity.clusterId})`);
    }
    if (!ROLES_FOR[access].includes(identity.role)) {
      throw permissionDenied(`role ${identity.role} may not call ${rpc}`);
    }
    const refusal = await this.membership.refusal(identity);
    if (refusal) throw permissionDenied(refusal);
    return { kind: 'node', identity };
  }
}
