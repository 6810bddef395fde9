/**
 * keyshift against Powertools for AWS Lambda's Parameters utility (`getSecret`), the
 * raw AWS SDK, `Map.get` and `process.env`, on one loopback AWS Secrets Manager
 * endpoint with 50 ms latency. Run: `npx tsx bench/aws.ts`. Prints a markdown table
 * on stdout and writes nothing else. Takes about 1.5 minutes on 2 cores.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startAwsSecretsManagerServer } from '../src/testing/aws-secrets-manager-server.ts';
import { coldCallers, startup } from './_aws-cold-start.ts';
import { POWERTOOLS_DEFAULT_MAX_AGE_S, type Row, row } from './_aws-competitors.ts';
import type { MemoryResult } from './_aws-memory.ts';
import { OUTAGE_MS, outage } from './_aws-outage.ts';
import { propagation } from './_aws-propagation.ts';
import { readCost } from './_aws-read-cost.ts';
import { count, mb } from './_aws-stats.ts';
import { table } from './_measure.ts';

const LATENCY_MS = 50;

/** Scenario 6 runs in a child with --expose-gc, so its heap holds nothing of the others. */
function memoryInChild(): Promise<MemoryResult> {
  const script = fileURLToPath(new URL('./_aws-memory.ts', import.meta.url));
  const root = fileURLToPath(new URL('..', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as MemoryResult);
      else reject(new Error(`bench/_aws-memory.ts exited with ${code}`));
    });
  });
}

function memoryRows(m: MemoryResult): Row[] {
  const bytes = (n: number) => `${count(n)} B`;
  const growth = (g: { refreshes: number; bytes: number }) =>
    `${mb(g.bytes)} over ${count(g.refreshes)} refreshes (${(g.bytes / g.refreshes).toFixed(1)} B each)`;
  return [
    row(`6a memory per cached secret (heap, after GC, between ${count(m.entries.small)} and ${count(m.entries.large)} entries; 32-character values)`, {
      keyshift:
        `${bytes(m.perSecretBytes.keyshift)} (+ ${bytes(m.perSecretExternalBytes.keyshift)} outside the heap: 128 latency samples)` +
        (m.entries.failedFetches > 0 ? `; NOT a healthy cache: ${m.entries.failedFetches} fetches failed` : ''),
      ptDefault: bytes(m.perSecretBytes.powertools),
      ptMatched: 'same cache as default',
      map: bytes(m.perSecretBytes.map),
      goal: '≤ 1 KB of heap',
    }),
    row('6b heap growth over refreshes (after GC; warm-up excluded)', {
      keyshift:
        `core over an in-process source: ${growth(m.growth.core)}, ${m.growth.core.usPerRefresh.toFixed(0)} µs per refresh; ` +
        `through the AWS SDK: ${growth(m.growth.keyshiftAws)}`,
      ptDefault: `forceFetch through the AWS SDK: ${growth(m.growth.powertools)}`,
      goal: 'no leak (≤ 5 MB)',
    }),
  ];
}

const started = performance.now();
const server = await startAwsSecretsManagerServer({ latencyMs: LATENCY_MS });
const rows: Row[] = [];
rows.push(...(await readCost(server)));
rows.push(...(await coldCallers(server)));
rows.push(...(await propagation(server)));
rows.push(...(await outage(LATENCY_MS)));
rows.push(...(await startup(server)));
await server.close();
rows.push(...memoryRows(await memoryInChild()));
const elapsedS = (performance.now() - started) / 1000;

const header = [
  'scenario',
  'keyshift',
  `Powertools \`getSecret\`, default maxAge (${POWERTOOLS_DEFAULT_MAX_AGE_S} s)`,
  'Powertools `getSecret`, maxAge = keyshift TTL',
  'raw AWS SDK',
  '`Map.get`',
  '`process.env`',
  'goal',
];
const cells = rows.map((r) => [r.measure, r.keyshift, r.ptDefault, r.ptMatched, r.raw, r.map, r.env, r.goal]);
console.log(`## keyshift vs Powertools Parameters on AWS Secrets Manager (loopback endpoint, ${LATENCY_MS} ms latency)\n`);
console.log(table(header, cells));
console.log(`
Notes: one process, Node ${process.version}, real \`@aws-sdk/client-secrets-manager\` clients against \`src/testing/aws-secrets-manager-server.ts\`.
Powertools is used as shipped: \`getSecret\` in 1, its \`SecretsProvider\` (what \`getSecret\` wraps) elsewhere, with the SDK's default retries.
keyshift entries are \`{ type: t.string(), category: 'api-key' }\` (TTL 5 min unless a scenario says otherwise); keyshift turns the SDK's retries off and retries itself (1 s doubling, ±25 %).
Scenario 4 keeps the full ${OUTAGE_MS / 1000} s outage. Scenario 6 runs with fewer refreshes than 10^6 (counts in the cells) to stay within 2 minutes, and uses latency 0.
Total run: ${elapsedS.toFixed(0)} s.`);
