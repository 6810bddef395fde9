/**
 * The emulator in its own process for bench/gcp.ts, so that the store's side of each
 * call does not share an event loop with the keyshift instances being measured.
 * Driven over IPC: { id, op: 'inject' | 'clear' | 'count' | 'subscribe' | 'close', ... }.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FaultRule, startEmulator } from '../src/emulator/index.ts';
import { openLocalStore } from '../src/local-store/index.ts';

export type ChildRequest =
  | { id: number; op: 'inject'; rule: FaultRule }
  | { id: number; op: 'clear' | 'count' | 'close' }
  | { id: number; op: 'subscribe'; url: string; bearerToken: string };

const dir = await mkdtemp(join(tmpdir(), 'ks-bench-gcp-'));
const store = await openLocalStore({ dir, masterKey: randomBytes(32) });
const emulator = await startEmulator({ store });
process.send?.({ port: emulator.port });

process.on('message', async (m: ChildRequest) => {
  let result: unknown;
  if (m.op === 'inject') emulator.faults.inject('AccessSecretVersion', m.rule);
  else if (m.op === 'clear') emulator.faults.clear();
  else if (m.op === 'count') result = emulator.callCount('AccessSecretVersion');
  else if (m.op === 'subscribe') emulator.addPushSubscription({ url: m.url, bearerToken: m.bearerToken });
  else if (m.op === 'close') {
    await emulator.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
  process.send?.({ id: m.id, result });
  if (m.op === 'close') process.disconnect();
});
