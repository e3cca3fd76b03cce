// Election test helper (run by etcd-election.test.ts, compiled to dist/): one candidate in its own
// process. argv: endpoints (comma-separated), prefix, name, ttlSec. Prints one JSON line per event
// ({"ev":"leading","rev":N}, {"ev":"lost","reason":...}, {"ev":"write","ok":bool}, {"ev":"closed"}) and
// obeys stdin lines: "write" (a fenced put of P/data = its name, sent whatever it believes),
// "resign", "close" (close the candidate and the client, then let the process exit by itself).
import readline from 'node:readline';
import { EtcdClient } from '../etcd-rpc.js';
import { campaign } from '../etcd-election.js';

const [endpoints, prefix, name, ttl] = process.argv.slice(2);
const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const client = new EtcdClient({ endpoints: endpoints.split(','), deadlineMs: 2000 });
const c = await campaign(client, { prefix, name: 'sched', value: name, ttlSec: Number(ttl), onLost: (reason) => say({ ev: 'lost', reason }) });
say({ ev: 'campaigning', rev: c.createRevision, leaseId: c.leaseId });
c.elected.then((rev) => say({ ev: 'leading', rev }), () => undefined);

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  void (async () => {
    if (line === 'write') {
      const key = Buffer.from(`${prefix}/data`);
      const r = await c.fencedTxn({ compare: [], success: [{ requestPut: { key, value: Buffer.from(name) } }], failure: [] });
      say({ ev: 'write', ok: r.succeeded });
    } else if (line === 'resign') {
      await c.resign();
      say({ ev: 'resigned' });
    } else if (line === 'close') {
      await c.close();
      client.close();
      rl.close();
      say({ ev: 'closed' });
    }
  })().catch((e) => say({ ev: 'error', message: String(e) }));
});
