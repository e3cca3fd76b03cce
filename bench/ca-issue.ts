// Bench "ca": how long the CA takes to issue one node certificate (CertificateAuthority.issue(),
// what every join and renewal costs the manager), in this process. forge builds the certificate;
// node's crypto signs it, since forge's pure-JS RSA signing alone takes ~50 ms. Target: median
// under 20 ms. No baseline.
import { performance } from 'node:perf_hooks';
import { createCsr, generateNodeKey } from '../common/certs.js';
import { newId } from '../common/ids.js';
import { CertificateAuthority, createRootCA } from '../manager/ca/ca.js';
import { fmtMs, percentile, table, type BenchModule, type BenchOptions, type BenchResult } from './harness.js';

const TARGET_MEDIAN_MS = 20;

export const caIssueBench: BenchModule = {
  name: 'ca',
  description: `CA: time to issue one node certificate (median target < ${TARGET_MEDIAN_MS} ms)`,
  async run(opts: BenchOptions): Promise<BenchResult> {
    const clusterId = newId();
    const ca = new CertificateAuthority(createRootCA(clusterId));
    const csrPem = createCsr(generateNodeKey());
    const n = opts.quick ? 30 : 200;
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      ca.issue({ csrPem, nodeId: newId(), role: 'worker', clusterId, validityMs: 24 * 3_600_000 });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = percentile(times, 50);
    opts.log(`${n} certificates, median ${fmtMs(median)} ms`);
    const report = table([
      ['certificates', 'min ms', 'median ms', 'p99 ms', 'max ms'],
      [String(n), fmtMs(times[0]), fmtMs(median), fmtMs(percentile(times, 99)), fmtMs(times[n - 1])],
    ]);
    report.push(`median ${fmtMs(median)} ms: target < ${TARGET_MEDIAN_MS} ms ${median < TARGET_MEDIAN_MS ? 'met' : 'NOT met'}`);
    return { report, figures: [{ label: 'CA issue() median', value: median, unit: ' ms', better: 'lower' }] };
  },
};
