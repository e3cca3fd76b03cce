// The `--etcd URL[,URL...] [--etcd-prefix P] [--etcd-cacert F --etcd-cert F --etcd-key F]` flags of
// `hush manager init` and `hush manager migrate`, checked into the settings the store is opened with.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CliError } from '../client.js';
import type { EtcdSettings } from '../../manager/store/state-config.js';

export interface EtcdFlags {
  etcdPrefix?: string;
  etcdCacert?: string;
  etcdCert?: string;
  etcdKey?: string;
}

/** Declares the flags beside --etcd (whose own spelling differs between init and migrate). */
export function etcdOptions(cmd: Command): Command {
  return cmd
    .option('--etcd-prefix <prefix>', 'key prefix of the cluster in etcd (default /hush)')
    .option('--etcd-cacert <file>', 'CA certificate of the etcd members (PEM): TLS to etcd')
    .option('--etcd-cert <file>', 'client certificate for etcd (PEM)')
    .option('--etcd-key <file>', 'key of the client certificate for etcd (PEM)');
}

const ENDPOINT = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):(\d{1,5})\/?$/;

export function parseEtcdSettings(urls: string, flag: string, f: EtcdFlags): EtcdSettings {
  const schemes = new Set<string>();
  const endpoints = urls.split(',').map((u) => u.trim()).filter(Boolean).map((u) => {
    const m = ENDPOINT.exec(u);
    if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new CliError(`invalid ${flag} endpoint ${JSON.stringify(u.slice(0, 80))}: expected http://HOST:PORT, https://HOST:PORT or HOST:PORT`);
    schemes.add(m[1] ?? (f.etcdCacert ? 'https' : 'http'));
    return `${m[2]}:${m[3]}`;
  });
  if (!endpoints.length) throw new CliError(`${flag} needs at least one endpoint`);
  if (schemes.size > 1) throw new CliError(`${flag} mixes http:// and https:// endpoints`);
  const tls = schemes.has('https');
  if (tls && !f.etcdCacert) throw new CliError(`https:// etcd endpoints need --etcd-cacert (the CA of the members' certificates)`);
  if (!tls && (f.etcdCacert || f.etcdCert || f.etcdKey)) throw new CliError('--etcd-cacert/--etcd-cert/--etcd-key are for https:// endpoints');
  if (!!f.etcdCert !== !!f.etcdKey) throw new CliError('--etcd-cert and --etcd-key go together');
  const prefix = f.etcdPrefix ?? '/hush';
  if (!/^\/[A-Za-z0-9._/-]{0,200}$/.test(prefix) || prefix.includes('//') || (prefix.length > 1 && prefix.endsWith('/'))) {
    throw new CliError(`invalid --etcd-prefix ${JSON.stringify(prefix.slice(0, 80))}: a path such as /hush (letters, digits, . _ - /)`);
  }
  const read = (file: string, what: string) => {
    try {
      const pem = readFileSync(file);
      if (!pem.includes('-----BEGIN ')) throw new Error('not PEM');
      return pem;
    } catch (e) {
      throw new CliError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return {
    endpoints, prefix,
    tls: tls ? {
      ca: read(f.etcdCacert!, '--etcd-cacert'),
      cert: f.etcdCert ? read(f.etcdCert, '--etcd-cert') : undefined,
      key: f.etcdKey ? read(f.etcdKey, '--etcd-key') : undefined,
    } : undefined,
  };
}
