/**
 * Admin bench (plan test 23's timing half): does the time to refuse a wrong token depend
 * on where it differs or on its length? 20,000 interleaved trials per variant, through
 * the token check alone and through the whole admin handler; the median gap against the
 * right-length wrong-first-byte token, next to the gap between two identical variants
 * (the run-to-run noise band). Prints a markdown section. Run: npx tsx bench/admin.ts
 */
import { createAdminHandler, createTokenAuth } from '../src/admin/index.ts';
import { createKeyshift, defineSecrets, t } from '../src/index.ts';
import { memorySource } from '../src/testing/index.ts';
import { fmt, percentile, table } from './_measure.ts';

const TRIALS = Number(process.env.BENCH_ADMIN_TRIALS ?? 20_000);
const TOKEN = 'bench-admin-token-0123456789abcdef0123456789abcdef';

const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'x' ? 'y' : 'x') + s.slice(at + 1);
const variants: Record<string, string> = {
  'wrong first byte': flip(TOKEN, 0),
  'wrong first byte (again: noise band)': flip(TOKEN, 0),
  'wrong last byte': flip(TOKEN, TOKEN.length - 1),
  '1-byte token': 'x',
  '64-byte token': 'x'.repeat(64),
};

async function measure(label: string, run: (candidate: string) => unknown | Promise<unknown>): Promise<string> {
  const names = Object.keys(variants);
  const samples = new Map(names.map((n) => [n, [] as number[]]));
  for (let i = 0; i < 2_000; i++) await run(variants[names[i % names.length] as string] as string); // warm-up
  for (let i = 0; i < TRIALS; i++) {
    // a fresh order each round, so drift lands on every variant alike
    const order = [...names].sort(() => Math.random() - 0.5);
    for (const name of order) {
      const start = process.hrtime.bigint();
      await run(variants[name] as string);
      (samples.get(name) as number[]).push(Number(process.hrtime.bigint() - start));
    }
  }
  const median = (name: string) => percentile(samples.get(name) as number[], 0.5);
  const base = median('wrong first byte');
  const noise = Math.abs(median('wrong first byte (again: noise band)') - base) / base;
  const rows = names.map((name) => {
    const gap = Math.abs(median(name) - base) / base;
    return [name, fmt(median(name), 0), `${fmt(gap * 100, 2)} %`, name === 'wrong first byte' ? '—' : gap < 0.02 || gap <= noise ? 'yes' : 'no'];
  });
  return `#### ${label}\n\n${table(['candidate', 'median ns', 'gap vs wrong first byte', '< 2 % or in noise'], rows)}\n\nNoise band (same variant twice): ${fmt(noise * 100, 2)} %.`;
}

const auth = createTokenAuth(TOKEN);
const byCheck = await measure('Token check alone (`createTokenAuth().check`)', (candidate) => auth.check(`Bearer ${candidate}`));

const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } }), { source: memorySource({ values: { API_KEY: 'k' } }), logger: false });
await ks.ready();
// no rate limit here: every trial must reach the comparison
const handler = await createAdminHandler({ managers: ks, token: TOKEN, auditLog: () => {}, alerts: { logger: false }, rateLimit: { maxFailures: Number.MAX_SAFE_INTEGER } });
const byHandler = await measure('Whole admin handler (`GET /admin/status`, answered 403)', async (candidate) => {
  const res = await handler(new Request('http://admin.test/admin/status', { headers: { authorization: `Bearer ${candidate}` } }), { clientAddress: '10.0.0.1' });
  await res.arrayBuffer();
});
await handler.close();
await ks.close();

console.log(`## Admin\n\n### Plan 23: wrong-token timing (${TRIALS.toLocaleString('en-US')} trials per variant)\n\n${byCheck}\n\n${byHandler}\n`);
