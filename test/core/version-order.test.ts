import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, ErrorCodes, KeyshiftError, t } from '../../src/index.ts';
import type { RefreshResult } from '../../src/core/manager.ts';
import { fallbackChain } from '../../src/sources/fallback-chain.ts';
import { createFakeClock, type FakeClock, memorySource } from '../../src/testing/index.ts';
import type { Source, SourceValue } from '../../src/types.ts';

const half = () => 0.5;

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface FlappingStore extends Source {
  /** Writes the next version of every entry and tells the watchers (a push). */
  advance(): void;
  readonly latest: number;
  readonly answers: { normal: number; failing: number; lagging: number };
}

/**
 * A store that cycles through phases of 1.5 s: normal (the latest version), failing
 * (most calls fail, the rest lag), lagging (half the answers are an older version, 1 to
 * 4 versions behind: a replica that has not caught up). `ordered` says whether it
 * reports SourceValue.order.
 */
function flappingStore(clock: FakeClock, names: readonly string[], ordered: boolean, random: () => number): FlappingStore {
  let latest = 1;
  const watchers = new Set<(names?: readonly string[]) => void>();
  const answers = { normal: 0, failing: 0, lagging: 0 };
  const answer = (n: number): SourceValue => ({ value: `value-${n}`, version: String(n), ...(ordered ? { order: n } : {}) });
  const lagged = (): SourceValue => {
    answers.lagging++;
    return answer(Math.max(1, latest - 1 - Math.floor(random() * 4)));
  };
  return {
    kind: 'flapping',
    async get(name) {
      if (!names.includes(name)) return undefined;
      const phase = Math.floor(clock.now() / 1_500) % 3;
      if (phase === 1) {
        if (random() < 0.7) {
          answers.failing++;
          throw new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `flapping: ${name} unavailable`);
        }
        return lagged();
      }
      if (phase === 2 && random() < 0.5) return lagged();
      answers.normal++;
      return answer(latest);
    },
    watch(onChange) {
      watchers.add(onChange);
      return () => void watchers.delete(onChange);
    },
    advance() {
      latest++;
      for (const w of [...watchers]) w(names);
    },
    get latest() {
      return latest;
    },
    answers,
  };
}

interface FlapFigures {
  backwardSteps: number;
  outOfOrder: number;
  changes: number;
  readsThatThrew: number;
  servedAtEnd: number[];
  latest: number;
  answers: FlappingStore['answers'];
}

/** 60 s of fake time, TTL 100 ms, a new version every 700 ms with a push, reads every 50 ms. */
async function flap(ordered: boolean, seed: number): Promise<FlapFigures> {
  const names = ['FEE', 'SERVICE_URL', 'QUEUE'] as const;
  const clock = createFakeClock();
  const store = flappingStore(clock, names, ordered, seeded(seed));
  const decl = defineSecrets({
    FEE: { type: t.string(), category: 'app-config', ttlMs: 100 },
    SERVICE_URL: { type: t.string(), category: 'app-config', ttlMs: 100 },
    QUEUE: { type: t.string(), category: 'queue-name', ttlMs: 100 },
  });
  const ks = createKeyshift(decl, {
    source: store,
    clock,
    random: seeded(seed + 1),
    logger: false,
    backoff: { initialMs: 100, maxMs: 800 },
    minRefreshIntervalMs: 200,
  });
  let outOfOrder = 0;
  let changes = 0;
  ks.on('out-of-order', () => outOfOrder++);
  ks.on('change', () => changes++);
  await ks.ready();
  const served = new Map<string, number>(names.map((n) => [n, 1]));
  let backwardSteps = 0;
  let readsThatThrew = 0;
  for (let step = 1; step <= 1_200; step++) {
    if (step % 14 === 0) store.advance();
    await clock.tick(50);
    for (const name of names) {
      let now: number;
      try {
        now = Number(/^value-(\d+)$/.exec(ks.get(name))?.[1]);
      } catch {
        readsThatThrew++;
        continue;
      }
      if (now < (served.get(name) ?? 0)) backwardSteps++;
      served.set(name, now);
    }
  }
  // a last normal phase: every entry catches up with the latest version
  const phase = Math.floor(clock.now() / 1_500) % 3;
  await clock.tick(((3 - phase) % 3) * 1_500 + 500);
  const servedAtEnd = names.map((n) => Number(ks.status().entries.find((e) => e.name === n)?.version));
  await ks.close();
  return { backwardSteps, outOfOrder, changes, readsThatThrew, servedAtEnd, latest: store.latest, answers: store.answers };
}

describe('Manager: the served version never goes backwards', () => {
  it('a source flapping between normal, failing and lagging answers for 60 s (TTL 100 ms, pushes): 0 backward steps, no read throws, older answers counted', async (t) => {
    for (const seed of [1, 2, 3]) {
      const f = await flap(true, seed);
      t.diagnostic(
        `ordered, seed ${seed}: backward steps ${f.backwardSteps}, out-of-order answers ${f.outOfOrder}, changes ${f.changes}, reads that threw ${f.readsThatThrew}, latest v${f.latest}, served at end ${f.servedAtEnd.join('/')}, answers ${JSON.stringify(f.answers)}`,
      );
      assert.equal(f.backwardSteps, 0, 'the served version sequence is monotonic');
      assert.equal(f.readsThatThrew, 0, 'no read throws while a last-known-good exists');
      assert.ok(f.answers.lagging > 100 && f.answers.failing > 100, 'the store did lag and fail');
      assert.ok(f.outOfOrder > 0, 'older answers are counted');
      assert.ok(f.changes >= 3 * 20, 'new versions keep being served');
      assert.deepEqual(f.servedAtEnd, [f.latest, f.latest, f.latest], 'every entry reaches the latest version');
    }
  });

  it('the same store without an order is served backwards (what the flapping test guards against)', async (t) => {
    const f = await flap(false, 1);
    t.diagnostic(`unordered: backward steps ${f.backwardSteps}, out-of-order answers ${f.outOfOrder}`);
    assert.ok(f.backwardSteps > 0);
    assert.equal(f.outOfOrder, 0, 'without an order, nothing is known to be older');
  });

  it('an older answer is not applied, is no change, and is counted as an event and on the diagnostics channel', async () => {
    const clock = createFakeClock();
    let answer: SourceValue = { value: 'v2', version: '2', order: 2 };
    const source: Source = { kind: 'lagging', get: async () => answer };
    const ks = createKeyshift(defineSecrets({ A: { type: t.string(), ttlMs: 1_000 } }), { source, clock, random: half, logger: false });
    const events: unknown[] = [];
    const published: unknown[] = [];
    const onPublish = (message: unknown): void => void published.push(message);
    subscribe('keyshift:manager:out-of-order', onPublish);
    ks.on('out-of-order', (e) => events.push(e));
    const changes: string[] = [];
    ks.on('change', (e) => changes.push(e.version));
    await ks.ready();
    answer = { value: 'v1', version: '1', order: 1 };
    const [older] = await ks.refresh('A');
    assert.equal(ks.get('A'), 'v2');
    assert.deepEqual({ outcome: older?.outcome, changed: older?.changed, version: older?.version }, { outcome: 'unchanged', changed: false, version: '2' });
    assert.deepEqual(events, [{ name: 'A', version: '1', servedVersion: '2', trigger: 'manual', source: 'lagging' }]);
    assert.deepEqual(published, [{ manager: 'keyshift', name: 'A', version: '1', servedVersion: '2', trigger: 'manual', source: 'lagging' }]);
    assert.equal(ks.status().entries[0]?.consecutiveFailures, 0, 'the store answered: not a failure');
    answer = { value: 'v1b', version: '1b', order: 2 };
    await clock.tick(1_000);
    assert.equal(ks.get('A'), 'v2', 'an equal order naming another version is not newer');
    answer = { value: 'v3', version: '3', order: 3n };
    await clock.tick(1_000);
    assert.equal(ks.get('A'), 'v3', 'orders may be bigints');
    assert.deepEqual(changes, ['3']);
    assert.equal(events.length, 2);
    unsubscribe('keyshift:manager:out-of-order', onPublish);
    await ks.close();
  });

  it('an older version that would also fail validation is out-of-order, not a new rejection', async () => {
    const clock = createFakeClock();
    let answer: SourceValue = { value: '5', version: '5', order: 5 };
    const source: Source = { kind: 'lagging', get: async () => answer };
    const ks = createKeyshift(defineSecrets({ N: { type: t.int() } }), { source, clock, random: half, logger: false });
    const seen: string[] = [];
    ks.on('rejected', () => seen.push('rejected'));
    ks.on('out-of-order', () => seen.push('out-of-order'));
    await ks.ready();
    answer = { value: 'not a number', version: '4', order: 4 };
    await ks.refresh('N');
    assert.deepEqual(seen, ['out-of-order']);
    assert.equal(ks.get('N'), 5);
    await ks.close();
  });

  it('sources without an order keep applying any different version', async () => {
    const clock = createFakeClock();
    let answer: SourceValue = { value: 'v2', version: 'b' };
    const source: Source = { kind: 'unordered', get: async () => answer };
    const ks = createKeyshift(defineSecrets({ A: { type: t.string() } }), { source, clock, random: half, logger: false });
    const changes: string[] = [];
    ks.on('change', (e) => changes.push(e.version));
    await ks.ready();
    answer = { value: 'v1', version: 'a' };
    await ks.refresh('A');
    assert.equal(ks.get('A'), 'v1');
    assert.deepEqual(changes, ['a']);
    await ks.close();
  });

  it('the memory source orders its versions, so tests can use it', async () => {
    const source = memorySource({ values: { A: 'one' } });
    const opts = { signal: new AbortController().signal, maxBytes: 1024 };
    const first = await source.get('A', opts);
    source.set('A', 'two');
    const second = await source.get('A', opts);
    assert.equal(typeof first?.order, 'number');
    assert.ok((second?.order ?? 0) > (first?.order ?? 0));
  });

  it('stepBack(name, reason) is the explicit way back: the next answer is served even when older, and the reason is logged', async () => {
    const clock = createFakeClock();
    let answer: SourceValue = { value: 'v2', version: '2', order: 2 };
    const source: Source = { kind: 'store', get: async () => answer };
    const infos: string[] = [];
    const logger = { info: (_: unknown, m: string) => void infos.push(m), warn() {}, error() {} };
    const ks = createKeyshift(defineSecrets({ A: { type: t.string() } }), { source, clock, random: half, logger });
    const changes: string[] = [];
    ks.on('change', (e) => changes.push(`${e.previousVersion}->${e.version}`));
    await ks.ready();
    answer = { value: 'v1', version: '1', order: 1 };
    await ks.refresh('A');
    assert.equal(ks.get('A'), 'v2');
    const manager = ks as unknown as { stepBack(name: string, reason: string): Promise<RefreshResult> };
    const result = await manager.stepBack('A', 'rollout halted: error rate');
    assert.equal(result.changed, true);
    assert.equal(ks.get('A'), 'v1');
    assert.deepEqual(changes, ['2->1']);
    assert.ok(infos.some((m) => /A may step back from version 2: rollout halted/.test(m)));
    answer = { value: 'v2', version: '2', order: 2 };
    await clock.tick(1_000); // past the minimum interval between forced refreshes
    await ks.refresh('A');
    assert.equal(ks.get('A'), 'v2', 'the floor is the served version again: newer ones still apply');
    await assert.rejects(manager.stepBack('NOPE', 'x'), { code: ErrorCodes.UNKNOWN_ENTRY });
    await ks.close();
  });

  it('a stepBack whose fetch fails leaves the floor in place: a lagging answer after the outage is still out-of-order', async () => {
    const clock = createFakeClock();
    let answer: SourceValue | Error = { value: 'v2', version: '2', order: 2 };
    const source: Source = {
      kind: 'store',
      get: async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      },
    };
    const ks = createKeyshift(defineSecrets({ A: { type: t.string(), ttlMs: 1_000 } }), { source, clock, random: half, logger: false });
    const changes: string[] = [];
    const outOfOrder: string[] = [];
    ks.on('change', (e) => changes.push(`${e.previousVersion}->${e.version}:${e.trigger}`));
    ks.on('out-of-order', (e) => outOfOrder.push(e.version));
    await ks.ready();
    answer = new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, 'store: down');
    const manager = ks as unknown as { stepBack(name: string, reason: string): Promise<RefreshResult> };
    const result = await manager.stepBack('A', 'rollout halted');
    assert.equal(result.outcome, 'error');
    answer = { value: 'v1', version: '1', order: 1 }; // the store is back, through a replica that lags
    await clock.tick(60_000); // retries and TTL refreshes: none of them is the step back
    assert.equal(ks.get('A'), 'v2', 'the explicit step back was the failed fetch; a later background answer is not one');
    assert.deepEqual(changes, []);
    assert.ok(outOfOrder.includes('1'));
    await ks.close();
  });

  it('a chain switching source compares no orders: the store taking over from a backup with higher numbers is applied', async () => {
    const clock = createFakeClock();
    let storeDown = true;
    let storeAnswer: SourceValue = { value: 'store-1', version: '1', order: 1 };
    const store: Source = {
      kind: 'store',
      get: async () => {
        if (storeDown) throw new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, 'store: down');
        return storeAnswer;
      },
    };
    const backup = memorySource();
    for (const v of ['b1', 'b2', 'b3', 'b4', 'b5']) backup.set('A', v); // order 5
    const ks = createKeyshift(defineSecrets({ A: { type: t.string() } }), { source: fallbackChain([store, backup]), clock, random: half, logger: false });
    const outOfOrder: string[] = [];
    ks.on('out-of-order', (e) => outOfOrder.push(e.version));
    await ks.ready();
    assert.equal(ks.get('A'), 'b5');
    storeDown = false;
    await ks.refresh('A');
    assert.equal(ks.get('A'), 'store-1', 'order 1 of the store is not compared with order 5 of the backup');
    assert.equal(ks.status().entries[0]?.source, 'store');
    storeAnswer = { value: 'store-3', version: '3', order: 3 };
    await clock.tick(1_000);
    await ks.refresh('A');
    storeAnswer = { value: 'store-2', version: '2', order: 2 };
    await clock.tick(1_000);
    await ks.refresh('A');
    assert.equal(ks.get('A'), 'store-3', 'within the store, orders compare');
    assert.deepEqual(outOfOrder, ['2']);
    await ks.close();
  });

  it('a chain of two sources of one kind (two stores, two regions) compares no orders across the switch either', async () => {
    const clock = createFakeClock();
    const primary = memorySource();
    const secondary = memorySource();
    for (const v of ['s1', 's2', 's3', 's4', 's5']) secondary.set('A', v); // order 5 in the secondary
    primary.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    const ks = createKeyshift(defineSecrets({ A: { type: t.string() } }), { source: fallbackChain([primary, secondary]), clock, random: half, logger: false });
    const outOfOrder: string[] = [];
    const changes: string[] = [];
    ks.on('out-of-order', (e) => outOfOrder.push(e.version));
    ks.on('change', (e) => changes.push(e.version));
    await ks.ready();
    assert.equal(ks.get('A'), 's5', 'start-up with the primary down: the secondary serves');
    primary.fail(undefined);
    primary.set('A', 'p1'); // order 1 in the primary, below the secondary's 5
    await ks.refresh('A');
    assert.equal(ks.get('A'), 'p1', "the primary takes over: its order 1 is not compared with the secondary's 5");
    assert.deepEqual(outOfOrder, []);
    primary.set('A', 'p2');
    await clock.tick(1_000);
    await ks.refresh('A');
    assert.equal(ks.get('A'), 'p2', 'within the primary, newer versions apply');
    assert.deepEqual(changes, ['1', '2']);
    await ks.close();
  });
});
