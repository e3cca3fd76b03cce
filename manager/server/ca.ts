// The CA service on the TLS port.
import type { CAHandlers } from '../../proto/gen/hush/v1/CA.js';
import { unauthenticated } from '../../common/errors.js';
import type { Manager } from '../manager.js';
import { unary, type RpcContext } from './rpc.js';

export function caHandlers(ctx: RpcContext, manager: Manager): CAHandlers {
  return {
    GetRootCACertificate: unary(ctx, 'CA.GetRootCACertificate', () =>
      ({ certificatePem: manager.unlocked().ca.rootCertificate() })),
    IssueNodeCertificate: unary(ctx, 'CA.IssueNodeCertificate', (req) =>
      manager.unlocked().ca.issue({ csrPem: req.csrPem, token: req.token, hostname: req.hostname, labels: req.labels })),
    RenewNodeCertificate: unary(ctx, 'CA.RenewNodeCertificate', (req, caller) => {
      if (caller.kind !== 'node') throw unauthenticated('renewal requires the current node certificate');
      return manager.unlocked().ca.renew(caller.identity, req.csrPem);
    }),
  };
}
