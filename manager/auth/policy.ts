// Who may call which RPC: one table, read by the authorizer (manager/auth/authorize.ts), which the
// server applies to every method of every service (manager/server/guard.ts). A method missing
// here keeps the manager from starting.
//
// The access levels, from least to most guarded:
//  - anyone: no credential on the transport; the request carries its own (a join token) or asks
//    for nothing secret (the root certificate). A node certificate, if presented, is still checked.
//  - nodes: a node certificate of this cluster (worker or manager role) whose node is a member.
//  - admin: the local admin (root on the manager's unix socket) or, over TLS, a manager node's
//    certificate. A named decision: as in Docker Swarm, a manager node administers the cluster
//    (its objects: secrets' metadata, services, nodes, join tokens). Human users with their own
//    certificates are a caller kind of their own (later), decided here too.
//  - local-admin: the local unix socket only. The unlock key protects this manager's state at
//    rest; it is shown, rotated and used only on the machine itself, never to a certificate holder
//    over the network, a manager node's included.
export type Access = 'anyone' | 'nodes' | 'admin' | 'local-admin';

/** RPC name (Service.Method) → who may call it. */
export const POLICY: Readonly<Record<string, Access>> = {
  'CA.GetRootCACertificate': 'anyone',
  'CA.IssueNodeCertificate': 'anyone', // the join token is the credential
  // A valid node certificate, or (checked by the CA service) an expired one with proof of its key.
  'CA.RenewNodeCertificate': 'anyone',
  'CA.JoinManager': 'anyone', // the manager join token is the credential
  'Control.Unlock': 'local-admin',
  'Control.GetUnlockKey': 'local-admin',
  'Control.GetManagerStatus': 'admin',
  'Control.ListManagers': 'admin',
  'Control.RemoveManager': 'admin',
  'Control.CreateSecret': 'admin',
  'Control.UpdateSecret': 'admin',
  'Control.GetSecret': 'admin',
  'Control.ListSecrets': 'admin',
  'Control.RemoveSecret': 'admin',
  'Control.GetJoinToken': 'admin',
  'Control.ListNodes': 'admin',
  'Control.GetNode': 'admin',
  'Control.UpdateNode': 'admin',
  'Control.RemoveNode': 'admin',
  'Control.CreateService': 'admin',
  'Control.UpdateService': 'admin',
  'Control.GetService': 'admin',
  'Control.ListServices': 'admin',
  'Control.RemoveService': 'admin',
  'Control.ListTasks': 'admin',
  'Dispatcher.Assignments': 'nodes',
  'Dispatcher.Heartbeat': 'nodes',
  'Dispatcher.UpdateTaskStatus': 'nodes',
};

/** The node roles each certificate-based level admits over TLS. */
export const ROLES_FOR: Readonly<Record<'nodes' | 'admin', ReadonlyArray<'worker' | 'manager'>>> = {
  nodes: ['worker', 'manager'],
  admin: ['manager'],
};

export function accessFor(rpc: string): Access | undefined {
  return Object.hasOwn(POLICY, rpc) ? POLICY[rpc] : undefined;
}
