// `hush manager migrate --to-etcd URL[,...]`: moves a stopped manager's embedded (SQLite) cluster
// into etcd (manager/cluster/migrate.ts).
import type { Command } from 'commander';
import { join } from 'node:path';
import { action } from './common.js';
import { etcdOptions, parseEtcdSettings, type EtcdFlags } from './etcd-flags.js';

export function managerMigrateCommand(manager: Command, stateDirOf: (o: { stateDir?: string }) => string): void {
  const migrate = manager.command('migrate').description('move a stopped manager\'s embedded (SQLite) cluster into etcd; manager.db is left as it was')
    .option('--state-dir <dir>', 'state directory of the stopped manager')
    .requiredOption('--to-etcd <urls>', 'etcd member URLs (comma-separated) to move the cluster to');
  etcdOptions(migrate)
    .action(action(async (_cmd, opts: { stateDir?: string; toEtcd: string } & EtcdFlags) => {
      const etcd = parseEtcdSettings(opts.toEtcd, '--to-etcd', opts);
      const stateDir = stateDirOf(opts);
      const { migrateToEtcd } = await import('../../manager/cluster/migrate.js');
      const r = await migrateToEtcd({ stateDir, etcd });
      console.log(`Cluster ${r.clusterId} moved to etcd (${etcd.endpoints.join(',')}, prefix ${etcd.prefix}) and verified: ${r.keys} keys, ${r.blobs} blobs, ${r.bytes} bytes.`);
      console.log(`Start the manager with: hush manager run --state-dir ${stateDir}`);
      console.log(`Its nodes keep their certificates and reconnect by themselves.\n`);
      console.log(`${join(stateDir, 'manager.db')} was not changed. To go back to it, stop the manager and remove ${r.written.map((f) => join(stateDir, f)).join(', ')};`);
      console.log('changes made on etcd since the migration are not in manager.db.');
    }));
}
