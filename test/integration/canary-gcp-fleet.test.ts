/**
 * Canary adoption on Secret Manager as a fleet of processes: 10 instance processes, each a
 * keyshift manager with the official Secret Manager client against keyshift's emulator and
 * its own pull subscription (gcpPubSubPull({ instanceSubscription })) on Google's Pub/Sub
 * emulator, calling the ChangeNow stand-in under load and reporting each 401.
 *
 * A good key reaches all 10 through the slices. A key the provider rejects is served by the
 * first slice at most; those instances halt past the threshold and step back, the halt
 * marker (the `keyshift-rollout` annotation, written with the secret's etag) reaches every
 * other instance with the SECRET_UPDATE notification it causes, and nobody adopts it.
 *
 * No timed assertion: the test waits for states (bounded far above any expected wait) and
 * counts events; the times it prints are figures, not checks.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { type ChangeNowServer, startChangeNowServer } from '../../examples/pgp/stand-ins/changenow-server.ts';
import { adoptionSlot } from '../../src/core/adoption.ts';
import { type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';
import { type PubSubEmulator, skipWithoutPubSub, uniqueName, usePubSubEmulator } from '../_pubsub-emulator.ts';

const skip = skipWithoutPubSub();
const N = 10;
// long enough that the halt marker reaches every instance before the second slice's turn, even on a loaded machine
// where a notification and a fetch take seconds; the slices are what is shown, not the speed
const BAKE_MS = 60_000;
const FIRST = 0.2;
const MAX_FAILURES = 2;
const SECRET = 'CN_API_KEY';
const now = (): number => performance.timeOrigin + performance.now();

interface ChildState {
  type: 'state';
  version: string;
  servedVersions: string[];
  failedByVersion: Record<string, number>;
  okByVersion: Record<string, number>;
  halts: Array<{ version: string; by: string; at: number; steppedBack: boolean }>;
  servedAt: Record<string, number>;
  servedBy: Record<string, string>;
  notifications: Record<string, number[]>;
  pushFetches: Array<[number, number]>;
  rollout: { version: string; halted: boolean; haltedBy?: string } | null;
  health: string;
}

/**
 * Instance ids, found deterministically, for which the first slice of version 2 (the good key) is not empty and
 * some slots are past 0.5 (so the slices show), and the first slice of version 3 (the bad key) holds 1 to 3 of N.
 */
function pickIds(): string[] {
  for (let salt = 0; ; salt++) {
    const ids = Array.from({ length: N }, (_, i) => `gcp-fleet-${salt}-${i}`);
    const good = ids.map((id) => adoptionSlot(id, SECRET, '2'));
    const bad = ids.filter((id) => adoptionSlot(id, SECRET, '3') < FIRST).length;
    if (good.some((s) => s < FIRST) && good.some((s) => s >= 0.5) && bad >= 1 && bad <= 3) return ids;
  }
}

describe('canary adoption: 10 instance processes on the Secret Manager emulator, notified through Pub/Sub', { skip, timeout: 420_000 }, () => {
  let pubsub: PubSubEmulator;
  let admin: PubSub;
  let f: Fixture;
  let cn: ChangeNowServer;
  let topic: string;
  let children: ChildProcess[] = [];
  const ids = pickIds();

  const query = (child: ChildProcess): Promise<ChildState> =>
    new Promise((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== 'state') return;
        child.off('message', on);
        resolve(m as ChildState);
      };
      child.on('message', on);
      child.send({ type: 'query' });
    });
  const states = () => Promise.all(children.map(query));
  /** Polls the fleet until `ok`; the limit is a liveness bound, never a speed check. The poll's timer holds the event loop open. */
  const until = async (what: string, ok: (s: ChildState[]) => boolean, limitMs: number): Promise<ChildState[]> => {
    const started = now();
    for (;;) {
      const s = await states();
      if (ok(s)) return s;
      if (now() - started > limitMs) assert.fail(`${what}: not reached in ${limitMs} ms: ${JSON.stringify(s.map((x) => [x.version, x.rollout]))}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  before(async () => {
    pubsub = await usePubSubEmulator();
    admin = new PubSub({ projectId: PROJECT });
    topic = `projects/${PROJECT}/topics/${uniqueName('canary')}`;
    await admin.createTopic(topic);
    f = await startFixture({ pubsubTopics: [{ topic, clientConfig: { projectId: PROJECT } }] });
    await seed(f, SECRET, 'cn_live_initial_key_0000000000');
    cn = await startChangeNowServer({ apiKey: 'cn_live_initial_key_0000000000', graceMs: 1_000 });
    const env = { ...process.env, NODE_OPTIONS: '', SM_HOST: f.emulator.host, SM_PORT: String(f.emulator.port), TOPIC: topic, PROJECT };
    children = ids.map((id) =>
      fork(fileURLToPath(new URL('./_canary-gcp-child.ts', import.meta.url)), [id, cn.url, String(BAKE_MS)], {
        execArgv: ['--import', 'tsx', '--unhandled-rejections=strict'],
        env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            c.once('exit', (code) => reject(new Error(`an instance exited (${code}) before it was ready`)));
            c.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
          }),
      ),
    );
    for (const c of children) c.removeAllListeners('exit');
  });

  after(async () => {
    for (const c of children) if (c.connected) c.send({ type: 'stop' });
    await Promise.all(
      children.map((c) => {
        if (c.exitCode !== null || c.signalCode !== null) return undefined;
        const kill = setTimeout(() => c.kill('SIGKILL'), 15_000);
        return new Promise((resolve) => c.once('exit', resolve)).finally(() => clearTimeout(kill));
      }),
    );
    if (admin && topic) {
      const [subs] = await admin.topic(topic).getSubscriptions().catch(() => [[]] as never);
      for (const s of subs) await s.delete().catch(() => undefined);
      await admin.topic(topic).delete().catch(() => undefined);
      await admin.close();
    }
    await cn?.close();
    await f?.close();
    await pubsub?.stop();
  });

  it('a good key reaches all 10 instances through the slices, with 0 failed requests', async () => {
    const good = cn.issueKey();
    const added = now();
    await f.client.addSecretVersion({ parent: f.secret(SECRET), payload: { data: Buffer.from(good) } });
    const firstSlice = ids.filter((id) => adoptionSlot(id, SECRET, '2') < FIRST).length;
    // the TTL is an hour (and 12 h while notifications are healthy): only the notification and the bake's steps move instances
    const all = await until('every instance on version 2', (s) => s.every((x) => x.version === '2'), BAKE_MS + 120_000);
    const at = all.map((x) => (x.servedAt['2'] ?? Number.NaN) - added).sort((a, b) => a - b);
    const failed = all.reduce((n, x) => n + Object.values(x.failedByVersion).reduce((a, b) => a + b, 0), 0);
    const ok = all.reduce((n, x) => n + (x.okByVersion['2'] ?? 0), 0);
    console.log(
      `Secret Manager fleet, good key: first slice ${firstSlice}/${N} served it ${Math.round(at[firstSlice - 1] ?? Number.NaN)} ms after the add, all ${N} after ${Math.round(at[N - 1]!)} ms (bake ${BAKE_MS} ms); ${ok} requests ok on it, ${failed} failed`,
    );
    assert.equal(failed, 0);
    assert.ok(ok > 0);
    // the slices: each instance's bake starts when it first fetches the version; the first slice serves it at that fetch,
    // an instance whose slot is 0.5 or more only at the bake's end (a `rollout` change, no fetch)
    for (const [i, id] of ids.entries()) {
      const slot = adoptionSlot(id, SECRET, '2');
      if (slot < FIRST) assert.notEqual(all[i]!.servedBy['2'], 'rollout', `instance ${id} (slot ${slot.toFixed(2)})`);
      if (slot >= 0.5) assert.equal(all[i]!.servedBy['2'], 'rollout', `instance ${id} (slot ${slot.toFixed(2)})`);
    }
  });

  it('a rejected key halts at the first slice; the marker on the secret reaches the others within one notification, and none adopts it', async () => {
    const bad = cn.issueKey({ activeAfterMs: 1e12 }); // a key the provider has not activated
    const added = now();
    const [version] = await f.client.addSecretVersion({ parent: f.secret(SECRET), payload: { data: Buffer.from(bad) } });
    assert.match(version.name ?? '', /\/versions\/3$/);
    const slice = new Set(ids.filter((id) => adoptionSlot(id, SECRET, '3') < FIRST));
    const halted = await until(
      'every instance halted on version 3 and serving version 2',
      (s) => s.every((x) => x.version === '2' && x.rollout?.version === '3' && x.rollout.halted),
      BAKE_MS + 120_000,
    );
    const backAfter = Math.max(...halted.map((x) => x.halts.find((h) => h.version === '3')!.at)) - added;
    // keep the fleet serving past the bake's end: nobody adopts it later
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, added + BAKE_MS + 3_000 - now())));
    const final = await states();

    const adopted = ids.filter((_, i) => final[i]!.servedVersions.includes('3'));
    const failed = final.reduce((n, x) => n + (x.failedByVersion['3'] ?? 0), 0);
    const byFailures = ids.filter((_, i) => final[i]!.halts.some((h) => h.version === '3' && h.by === 'failures'));
    const [secret] = await f.client.getSecret({ name: f.secret(SECRET) });
    const marker = JSON.parse(secret.annotations?.['keyshift-rollout'] ?? '{}') as { version?: string; state?: string; reason?: string };

    // the others learned the halt from the marker: at the first fetch that started after its SECRET_UPDATE notification,
    // or earlier (a fetch already under way read the marker before the notification came)
    const notified: number[] = [];
    let before = 0;
    for (const [i, x] of final.entries()) {
      const halt = x.halts.find((h) => h.version === '3')!;
      if (halt.by !== 'marker') continue;
      const update = x.notifications.SECRET_UPDATE?.find((at) => at > added);
      if (update === undefined || update > halt.at) {
        before++;
        continue;
      }
      notified.push(halt.at - update);
      const missed = x.pushFetches.filter(([start, end]) => start >= update && end < halt.at);
      assert.deepEqual(missed, [], `instance ${ids[i]} fetched after the SECRET_UPDATE notification without halting`);
    }
    console.log(
      `Secret Manager fleet, rejected key: adopted by ${adopted.length}/${N} (first slice ${slice.size}), halted by failures on ${byFailures.length}, ` +
        `${failed} failed requests (threshold ${MAX_FAILURES} x slice ${slice.size} = ${MAX_FAILURES * slice.size}), ` +
        `${N - byFailures.length} halted by the marker (${notified.length} at the fetch a SECRET_UPDATE notification caused, ${notified.map((ms) => Math.round(ms)).join(', ')} ms after it; ${before} by a fetch before it came), ` +
        `all back on version 2 ${Math.round(backAfter)} ms after the add`,
    );

    assert.ok(final.every((x) => x.version === '2'), 'every instance back on the old key');
    assert.ok(adopted.every((id) => slice.has(id)), `only the first slice adopted it: ${adopted.join(', ')}`);
    assert.ok(adopted.length >= 1, 'the first slice served it (the halt came from the requests)');
    assert.ok(byFailures.length >= 1 && byFailures.every((id) => slice.has(id)));
    for (const [i, x] of final.entries()) {
      const halt = x.halts.find((h) => h.version === '3')!;
      // the slice's instances step back; the others never served it, so there is nothing to step back from
      assert.equal(halt.steppedBack, x.servedVersions.includes('3'), `instance ${ids[i]}`);
    }
    assert.ok(failed >= MAX_FAILURES, 'the halt came from the failures');
    assert.ok(failed <= MAX_FAILURES * slice.size, `${failed} failed requests`);
    assert.deepEqual([marker.version, marker.state], ['3', 'halted']);
    assert.match(marker.reason ?? '', /failures reported during the bake/);
    assert.ok(!JSON.stringify(secret.annotations).includes(bad), 'no value in the annotation');
  });
});
