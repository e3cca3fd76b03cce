// The Store contract (contract.ts) run against the etcd backend on a real 3-member cluster on
// loopback, over plain gRPC and over TLS with client certificates; each test on its own prefix.
import { after, before } from 'node:test';
import { openStore, type EtcdStoreConfig } from './open.js';
import type { Store } from './store.js';
import { storeContract, type ContractStoreOptions, type OpenedStore } from './contract.js';
import { startEtcdCluster, type EtcdCluster } from './testdata/etcd-cluster.js';
import { EtcdClient } from './etcd-rpc.js';
import { bytesPrefixEnd } from './etcd-layout.js';

let cluster: EtcdCluster;
before(async () => {
  cluster = await startEtcdCluster();
});
after(() => cluster?.stop());

let n = 0;
function opener(tls: boolean) {
  return async (opts: ContractStoreOptions = {}): Promise<OpenedStore> => {
    const prefix = `/contract-${process.pid}-${++n}`;
    const config: EtcdStoreConfig = tls
      ? { backend: 'etcd', endpoints: cluster.tlsEndpoints, prefix, historyLimit: opts.historyLimit, tls: cluster.tls }
      : { backend: 'etcd', endpoints: cluster.endpoints, prefix, historyLimit: opts.historyLimit };
    const opened: Store[] = [];
    const open = async () => {
      const s = await openStore(config);
      opened.push(s);
      return s;
    };
    return {
      store: await open(),
      reopen: open,
      async cleanup() {
        for (const s of opened) await s.close();
        const c = new EtcdClient({ endpoints: cluster.endpoints });
        try {
          const key = Buffer.from(prefix + '/');
          await c.txn({ compare: [], success: [{ requestDeleteRange: { key, rangeEnd: bytesPrefixEnd(key) } }], failure: [] });
        } finally {
          c.close();
        }
      },
    };
  };
}

storeContract('etcd', opener(false));
storeContract('etcd over TLS', opener(true));
