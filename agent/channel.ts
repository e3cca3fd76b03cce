// gRPC channels from a node to the managers: mutual TLS with the node's own
// certificate, the server checked against the cluster root and the name every
// manager certificate carries (hush-manager), keepalive on for long streams.
import * as grpc from '@grpc/grpc-js';

export const MANAGER_NAME = 'hush-manager';

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.ssl_target_name_override': MANAGER_NAME,
  'grpc.default_authority': MANAGER_NAME,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  // One channel per manager: the agent does its own failover across managers.
  'grpc.use_local_subchannel_pool': 1,
};

export interface NodeCredentials {
  nodeId: string;
  role: 'worker' | 'manager';
  keyPem: string;
  certPem: string;
  caPem: string;
}

/** mTLS as the node. */
export function nodeCredentials(c: Pick<NodeCredentials, 'keyPem' | 'certPem' | 'caPem'>): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(c.caPem), Buffer.from(c.keyPem), Buffer.from(c.certPem));
}

/** TLS to a manager whose CA is known, without a client certificate (joining). */
export function joinerCredentials(caPem: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(caPem));
}

/**
 * TLS without verifying the server, for the one call that fetches the root CA
 * before it is known. Nothing secret is sent on it, and the returned root is
 * accepted only if its digest matches the join token.
 */
export function bootstrapCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
}
