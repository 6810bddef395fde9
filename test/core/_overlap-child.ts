// One verifier process for overlap-window.test.ts: a service that checks NOWPayments-style
// IPN callbacks (HMAC-SHA512, hex) with NOWPAYMENTS_IPN_SECRET from a shared local store,
// on a fake clock the parent moves. Lines in on stdin, JSON lines out; never prints a value.
import { createInterface } from 'node:readline';
import { createKeyshift, defineSecrets, t, verifyHmacSignature } from '../../src/index.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { createFakeClock } from '../../src/testing/index.ts';

const [dir, overlapMs] = process.argv.slice(2) as [string, string];
const clock = createFakeClock(1_000);
const declaration = defineSecrets({
  NOWPAYMENTS_IPN_SECRET: { type: t.string(), category: 'webhook-secret', overlapMs: Number(overlapMs), ttlMs: 3_600_000 },
} as const);
const ks = createKeyshift(declaration, { source: localStore({ dir }), logger: false, clock, name: 'ipn-verifier' });
await ks.ready();
let version = ks.status().entries[0]?.version;
ks.on('change', (event) => {
  version = event.version;
  process.stdout.write(`${JSON.stringify({ type: 'changed', version })}\n`);
});
process.stdout.write(`${JSON.stringify({ type: 'ready', version })}\n`);

const hold = setInterval(() => undefined, 1_000); // the watchers are unref'd: keep the process up
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { type: 'verify'; payload: string; signature: string } | { type: 'tick'; ms: number } | { type: 'close' };
  if (command.type === 'tick') {
    await clock.tick(command.ms);
    process.stdout.write(`${JSON.stringify({ type: 'ticked' })}\n`);
  } else if (command.type === 'verify') {
    const result = verifyHmacSignature(ks.overlapping('NOWPAYMENTS_IPN_SECRET'), command.payload, command.signature, { algorithm: 'sha512' });
    process.stdout.write(`${JSON.stringify({ type: 'verified', ...result })}\n`);
  } else break;
}
clearInterval(hold);
process.stdin.destroy();
await ks.close();
