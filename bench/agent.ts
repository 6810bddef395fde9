/**
 * Agent bench: what a Python service pays to read a value through `keyshift agent`,
 * against a plain read of the same value from the agent's rendered file, and how long a
 * change takes from the store to the application (file swap + notify URL, and the read
 * API's long poll). The application side is bench/_agent_client.py with the machine's
 * python3. Prints a markdown section. Run: npx tsx bench/agent.ts
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAgentConfig } from '../src/agent/agent-config.ts';
import { startAgent } from '../src/agent/start-agent.ts';
import { memorySource } from '../src/testing/index.ts';
import { fmt, percentile, table } from './_measure.ts';

const READS = Number(process.env.BENCH_AGENT_READS ?? 5_000);
const CHANGES = Number(process.env.BENCH_AGENT_CHANGES ?? 100);
const CLIENT = fileURLToPath(new URL('./_agent_client.py', import.meta.url));
const quiet = { info() {}, warn() {}, error() {} };

function python(args: string[]) {
  const child = spawn('python3', [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const nextLine = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return lines.shift() as string;
  };
  return { child, nextLine, exited };
}

async function notice(label: string, source: ReturnType<typeof memorySource>, refresh: () => Promise<unknown>, app: ReturnType<typeof python>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 1; i <= CHANGES; i++) {
    const value = `bench-${label}-${i}-${'x'.repeat(32)}`;
    const start = process.hrtime.bigint();
    source.set('BENCH_KEY', value);
    await refresh();
    for (;;) {
      const [seen, at] = (await app.nextLine()).split(' ');
      if (seen === value) {
        samples.push(Number(BigInt(at as string) - start));
        break;
      }
    }
  }
  return samples;
}

const root = await mkdtemp(join(tmpdir(), 'keyshift-bench-agent-'));
const source = memorySource({ values: { BENCH_KEY: `bench-initial-${'x'.repeat(32)}` } });
const notify = python(['notice-http', join(root, 'files', 'BENCH_KEY')]);
const port = (await notify.nextLine()).replace('port ', '');
const config = parseAgentConfig(
  {
    entries: { BENCH_KEY: { type: 'string', category: 'api-key' } },
    files: { dir: 'files', notify: { url: `http://127.0.0.1:${port}/changed` } },
    api: { socket: 'agent.sock' },
    manager: { minRefreshIntervalMs: 0 },
  },
  root,
);
const agent = await startAgent({ config, source, logger: quiet });
const socket = join(root, 'agent.sock');
const refresh = () => agent.ks.refresh('BENCH_KEY' as never);

const reader = python(['reads', socket, join(root, 'files', 'BENCH_KEY'), String(READS)]);
const { socket: viaSocket, file: viaFile } = JSON.parse(await reader.nextLine()) as { socket: number[]; file: number[] };
await reader.exited;

const swap = await notice('swap', source, refresh, notify);
notify.child.kill();
const poller = python(['notice-poll', socket, String(CHANGES)]);
await poller.nextLine();
const poll = await notice('poll', source, refresh, poller);
await poller.exited;
await agent.close();
await rm(root, { recursive: true, force: true });

const us = (ns: number) => fmt(ns / 1_000);
const ms = (ns: number) => fmt(ns / 1_000_000, 2);
const p = (xs: number[], q: number) => percentile(xs, q);
console.log(`## agent (\`keyshift agent\`, a Python client)

Reads of one value from Python (${READS} each, interleaved): through the agent's Unix socket (\`AgentClient.read\`, one kept-alive connection) against opening and reading the file the agent rendered.

${table(
  ['read', 'p50 µs', 'p99 µs', 'p50 vs file'],
  [
    ['file (open + read)', us(p(viaFile, 0.5)), us(p(viaFile, 0.99)), '1.0×'],
    ['agent socket (HTTP over AF_UNIX)', us(p(viaSocket, 0.5)), us(p(viaSocket, 0.99)), `${fmt(p(viaSocket, 0.5) / p(viaFile, 0.5))}×`],
  ],
)}

From a new version in the source to the Python application holding it (${CHANGES} changes each; the agent's refresh is forced, so the store's own propagation is not counted):

${table(
  ['path', 'p50 ms', 'p99 ms'],
  [
    ['file swap → notify URL → file read', ms(p(swap, 0.5)), ms(p(swap, 0.99))],
    ['read API long poll → read', ms(p(poll, 0.5)), ms(p(poll, 0.99))],
  ],
)}`);
