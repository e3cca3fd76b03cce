// The CA service on the TLS port.
import type { CAHandlers } from '../../proto/gen/hush/v1/CA.js';
import { permissionDenied, unauthenticated } from '../../common/errors.js';
import type { Manager } from '../manager.js';
import { unary, type RpcContext } from './rpc.js';

export function caHandlers(ctx: RpcContext, manager: Manager): CAHandlers {
  return {
    GetRootCACertificate: unary(ctx, 'CA.GetRootCACertificate', () =>
      ({ certificatePem: manager.unlocked().ca.rootCertificate() })),
    IssueNodeCertificate: unary(ctx, 'CA.IssueNodeCertificate', (req) =>
      manager.unlocked().ca.issue({ csrPem: req.csrPem, token: req.token, hostname: req.hostname, labels: req.labels })),
    JoinManager: unary(ctx, 'CA.JoinManager', async (req) => {
      const g = await manager.unlocked().managers.grantJoin({ token: req.token, listenAddr: req.listenAddr, hostname: req.hostname });
      return {
        managerId: g.managerId, clusterId: g.clusterId, rootCaPem: g.rootCaPem,
        etcdEndpoints: g.etcd.endpoints, etcdPrefix: g.etcd.prefix,
        etcdCaPem: g.etcd.tls?.ca, etcdCertPem: g.etcd.tls?.cert, etcdKeyPem: g.etcd.tls?.key,
        autolock: g.keyring.autolock,
        dataKey: g.keyring.autolock ? undefined : g.keyring.dek,
        wrappedDataKey: g.keyring.autolock ? g.keyring.wrappedDek : '',
      };
    }),
    RenewNodeCertificate: unary(ctx, 'CA.RenewNodeCertificate', (req, caller) => {
      if (caller.kind === 'node') return manager.unlocked().ca.renew(caller.identity, req.csrPem);
      if (caller.kind === 'anonymous' && caller.refused) throw permissionDenied(caller.refused);
      if (req.expiredCertificatePem) return manager.unlocked().ca.renewExpired(req.expiredCertificatePem, req.proof, req.csrPem);
      throw unauthenticated('renewal requires the current node certificate (or, once it has expired, the expired one with proof of its key)');
    }),
  };
}
