/**
 * Plan section C, tests 19-22: malformed and wrong-typed values through the manager,
 * invalid UTF-8 and encodings identical across every source, oversized values capped
 * without buffering, and a checksum mismatch from the emulator.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as v from 'valibot';
import { z } from 'zod';
import { type AlertEvent, createAlertRules } from '../../src/admin/alert-rules.ts';
import { type Codec, createKeyshift, defineSecrets, ErrorCodes, type KeyshiftError, reveal, t } from '../../src/index.ts';
import { env } from '../../src/sources/env.ts';
import { fileSource } from '../../src/sources/file.ts';
import { memorySource } from '../../src/sources/memory.ts';
import { flush } from '../../src/testing/index.ts';
import type { Source } from '../../src/types.ts';
import { everythingOf, rendered } from './_canary.ts';
import { failOnUnhandled, until } from './_strict.ts';
import { awsStore, gcpStore, localStoreFixture } from './_stores.ts';

failOnUnhandled();

interface Case {
  type: string;
  codec: () => Codec<unknown>;
  good: string;
  bad: readonly string[];
}

const CASES: readonly Case[] = [
  { type: 'int', codec: () => t.int(), good: '42', bad: ['12abc', '1e3', '9007199254740993'] },
  { type: 'float', codec: () => t.float(), good: '0.5', bad: ['NaN', 'Infinity', '1e309'] },
  { type: 'decimal', codec: () => t.decimal(), good: '0.30000000000000004', bad: ['0.1.2'] },
  { type: 'bool', codec: () => t.bool(), good: 'true', bad: ['yes', 'TRUE '] },
  { type: 'url', codec: () => t.url(), good: 'https://api.example/v1', bad: ['javascript:alert(1)', 'http://', 'https://user:fake-pass@host.example/'] },
  { type: 'duration', codec: () => t.duration({ unit: 'h' }), good: '24', bad: ['-5h'] },
  { type: 'json', codec: () => t.json(), good: '{"a":1}', bad: ['{"a":1,}', '{"__proto__":{"polluted":1}}', '{"a":{"constructor":{"prototype":{"polluted":1}}}}'] },
];

describe('Plan 19: malformed and wrong-typed values', () => {
  for (const c of CASES) {
    it(`${c.type}: each bad version is rejected once, the last-known-good stays, the event and alert name entry, type and reason without the value; at ready() the same input fails clearly`, async () => {
      const source = memorySource({ values: { VALUE: c.good } });
      const ks = createKeyshift(defineSecrets({ VALUE: { type: c.codec(), category: 'app-config' } }), { source, logger: false, minRefreshIntervalMs: 1 });
      await ks.ready();
      const good = ks.get('VALUE');
      if (c.type === 'decimal') assert.equal(String(good), '0.30000000000000004', 'kept exact');
      const rules = createAlertRules([ks], { logger: false });
      const alerts: AlertEvent[] = [];
      rules.on((e) => alerts.push(e));
      const rejected: Array<{ version: string; type: string; reason: string; text: string }> = [];
      ks.on('rejected', (e) => rejected.push({ version: e.version, type: e.type, reason: e.reason, text: rendered(e) }));
      for (const bad of c.bad) {
        const version = source.set('VALUE', bad);
        // the push may fall inside the minimum refresh interval: its trailing fetch comes a moment later
        await until(() => rejected.at(-1)?.version === version, 5_000, `the rejection of ${c.type} version ${version}`);
        await ks.refresh('VALUE'); // a second look at the same bad version: no second event
        await flush();
        assert.equal(ks.get('VALUE'), good, `${JSON.stringify(bad)}: the last-known-good value stays`);
        const last = rejected.at(-1);
        assert.equal(last?.version, version);
        assert.equal(last?.type, c.type);
        assert.ok((last?.reason.length ?? 0) > 0);
        assert.ok(!last?.text.includes(bad), `the event for ${c.type} does not carry the value`);
        const alert = alerts.at(-1)?.alert;
        assert.equal(alert?.rule, 'rejected');
        assert.match(alert?.message ?? '', new RegExp(`version ${version} of VALUE was rejected`));
        assert.ok(!alert?.message.includes(bad));
      }
      assert.equal(rejected.length, c.bad.length, 'exactly one rejected event per bad version');
      assert.equal(alerts.length, c.bad.length, 'exactly one alert per bad version');
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
      await rules.close();
      await ks.close();

      for (const bad of c.bad) {
        const cold = createKeyshift(defineSecrets({ VALUE: { type: c.codec(), category: 'app-config' } }), { source: memorySource({ values: { VALUE: bad } }), logger: false });
        await assert.rejects(cold.ready(), (e: KeyshiftError) => {
          assert.equal(e.code, ErrorCodes.VALUE_REJECTED);
          assert.match(e.message, new RegExp(`entry VALUE \\(${c.type}\\) version 1 rejected: `));
          assert.ok(!everythingOf(e).includes(bad), 'the ready() error does not carry the value');
          return true;
        });
        await cold.close();
      }
    });
  }

  it('the rejected alert carries the type and the reason too', async () => {
    const source = memorySource({ values: { VALUE: '1' } });
    const ks = createKeyshift(defineSecrets({ VALUE: { type: t.int(), category: 'app-config' } }), { source, logger: false });
    await ks.ready();
    const rules = createAlertRules([ks], { logger: false });
    source.set('VALUE', '12abc');
    await flush();
    const message = rules.firing()[0]?.message ?? '';
    await rules.close();
    await ks.close();
    assert.match(message, /\(int\)/);
    assert.match(message, /not an integer/);
  });

  it('validators that echo their input (valibot) never put the value in the reason; paths are kept, by position', async () => {
    const leaky = 'fake-leaky-value-0123456789';
    const cases = [
      { validate: v.picklist(['USD', 'EUR']), type: t.string(), text: leaky },
      { validate: v.pipe(v.string(), v.email()), type: t.string(), text: leaky },
      { validate: v.object({ currency: v.picklist(['USD']) }), type: t.json(), text: JSON.stringify({ currency: leaky }) },
      { validate: z.object({ fee: z.number().min(0) }), type: t.json(), text: '{"fee":-1}' },
    ];
    const reasons: string[] = [];
    for (const c of cases) {
      const source = memorySource({ values: { VALUE: c.text } });
      const ks = createKeyshift(defineSecrets({ VALUE: { type: c.type, validate: c.validate as never, category: 'app-config' } }), { source, logger: false });
      await assert.rejects(ks.ready(), (e: KeyshiftError) => {
        assert.equal(e.code, ErrorCodes.VALUE_REJECTED);
        assert.ok(!everythingOf(e).includes(leaky.slice(5, 13)), 'no 8 characters of the value in the error');
        reasons.push(String(e.details.reason));
        return true;
      });
      await ks.close();
    }
    assert.match(reasons[2] ?? '', /at \$\.key#1/, 'paths by position: a key can be the secret');
    assert.match(reasons[3] ?? '', /at \$\.key#1: Too small/);
  });
});

/** What a source's payload decodes to under one type: the value, or the rejection reason. */
async function outcome(source: Source, codec: Codec<unknown>): Promise<string> {
  const ks = createKeyshift(defineSecrets({ PAYLOAD: { type: codec, category: 'app-config' } }), { source, logger: false });
  try {
    await ks.ready();
    return `value ${JSON.stringify(reveal(ks.get('PAYLOAD')))}`;
  } catch (error) {
    const e = error as KeyshiftError;
    return `${e.code} ${String(e.details.reason ?? e.message)}`;
  } finally {
    await ks.close();
  }
}

describe('Plan 20: invalid UTF-8 and encodings', () => {
  const payloads: ReadonlyArray<readonly [string, Uint8Array]> = [
    ['invalid UTF-8 (C3 28)', Uint8Array.of(0x61, 0xc3, 0x28, 0x62)],
    ['an encoded lone surrogate (ED A0 80)', Uint8Array.of(0x61, 0xed, 0xa0, 0x80)],
    ['a UTF-8 BOM', Buffer.from('\ufeffvalue')],
    ['a NUL byte', Buffer.from('val\0ue')],
    ['CRLF at the end', Buffer.from('value\r\n')],
    ['CRLF inside', Buffer.from('val\r\nue')],
    ['one trailing newline', Buffer.from('value\n')],
    ['two trailing newlines', Buffer.from('value\n\n')],
    ['a URL with a NUL', Buffer.from('https://a.example/\0x')],
  ];
  const codecs = { string: () => t.string(), header: () => t.string({ header: true }), url: () => t.url() } as const;

  it('every source (memory, file, local store, emulator, AWS, env) gives the same outcome for the same bytes, with a fatal decoder', async (tc) => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-hardening-utf8-'));
    const local = await localStoreFixture();
    const gcp = await gcpStore();
    const aws = await awsStore();
    try {
      const table: string[] = [];
      for (const [label, bytes] of payloads) {
        await writeFile(join(dir, 'PAYLOAD'), bytes);
        await local.store.put('PAYLOAD', bytes);
        await gcp.set('PAYLOAD', bytes);
        await aws.set('PAYLOAD', bytes);
        const text = Buffer.from(bytes).toString('utf8');
        const sources: Array<readonly [string, () => Source]> = [
          ['memory', () => bytesSource(bytes)],
          ['file', () => fileSource({ dir, rescanMs: 0 })],
          ['local-store', () => local.source()],
          ['gcp', () => gcp.source()],
          ['aws', () => aws.source()],
        ];
        // env holds text, not bytes: only payloads that are valid UTF-8 (and NUL-free, as an OS environment is) can be compared
        if (Buffer.from(text).equals(Buffer.from(bytes)) && !text.includes('\0')) sources.push(['env', () => env({ env: { PAYLOAD: text } })]);
        for (const [codecName, codec] of Object.entries(codecs)) {
          const outcomes = new Map<string, string>();
          for (const [name, make] of sources) outcomes.set(name, await outcome(make(), codec()));
          const distinct = new Set(outcomes.values());
          assert.equal(distinct.size, 1, `${label} as ${codecName}: ${JSON.stringify(Object.fromEntries(outcomes))}`);
          table.push(`${label} as ${codecName}: ${[...distinct][0]}`);
        }
      }
      const find = (prefix: string) => table.find((row) => row.startsWith(prefix)) ?? '';
      assert.match(find('invalid UTF-8 (C3 28) as string'), /VALUE_REJECTED bytes are not valid UTF-8/, 'rejected, never U+FFFD');
      assert.match(find('an encoded lone surrogate (ED A0 80) as string'), /not valid UTF-8/);
      assert.match(find('a UTF-8 BOM as string'), /value "value"/);
      assert.match(find('a NUL byte as string'), /NUL/);
      assert.match(find('a URL with a NUL as url'), /REJECTED/);
      assert.match(find('CRLF inside as header'), /CR or LF/);
      assert.match(find('CRLF at the end as header'), /value "value"/);
      assert.match(find('one trailing newline as string'), /value "value"/);
      assert.match(find('two trailing newlines as string'), /value "value\\n"/);
      tc.diagnostic(`${table.length} payload x type outcomes, identical across ${6} sources`);
    } finally {
      await aws.close();
      await gcp.close();
      await local.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a lone surrogate in a string value (env, memory) is rejected too', async () => {
    for (const source of [env({ env: { PAYLOAD: 'a\ud800b' } }), memorySource({ values: { PAYLOAD: 'a\ud800b' } })]) {
      assert.match(await outcome(source, t.string()), /VALUE_REJECTED text contains a lone UTF-16 surrogate/);
    }
  });
});

/** A memory source holding raw bytes. */
function bytesSource(bytes: Uint8Array): Source {
  const source = memorySource();
  source.set('PAYLOAD', bytes);
  return source;
}

/** The V8 gc, enabled at run time (the runner does not pass --expose-gc). */
function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('Plan 21: oversized values', () => {
  const LIMIT = 64 * 1024;

  // (the AWS endpoint, like AWS itself, refuses to store more than 65,536 bytes)
  it('64 KiB + 1 from the emulator: the version is rejected with its size, the last-known-good stays', async () => {
    const gcp = await gcpStore({ maxValueBytes: 1024 * 1024 });
    try {
      for (const store of [gcp]) {
        await store.set('BIG', 'fake-small-value');
        const ks = createKeyshift(defineSecrets({ BIG: { type: t.string(), category: 'api-key' } }), { source: store.source(), logger: false, minRefreshIntervalMs: 1 });
        await ks.ready();
        const rejected: Array<{ code: string; reason: string }> = [];
        ks.on('rejected', (e) => rejected.push({ code: e.code, reason: e.reason }));
        await store.set('BIG', 'x'.repeat(LIMIT + 1));
        const [result] = await ks.refresh('BIG');
        assert.equal(result?.outcome, 'rejected', store.kind);
        assert.equal(ks.get('BIG').reveal(), 'fake-small-value');
        assert.equal(rejected[0]?.code, ErrorCodes.VALUE_TOO_LARGE);
        assert.match(rejected[0]?.reason ?? '', /65537 bytes|65536-byte limit/, `${store.kind}: the size is in the message`);
        await ks.close();
      }
    } finally {
      await gcp.close();
    }
  });

  it('a 10 MB file and an endless zero stream (/dev/zero) are refused after reading at most the limit: heap growth < 2x the limit', async (tc) => {
    const collect = gc();
    const dir = await mkdtemp(join(tmpdir(), 'ks-hardening-big-'));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'TEN_MB'), Buffer.alloc(10 * 1024 * 1024, 0x61));
    await symlink('/dev/zero', join(dir, 'ENDLESS'));
    try {
      const source = fileSource({ dir, rescanMs: 0 });
      for (const name of ['TEN_MB', 'ENDLESS']) {
        collect();
        const before = process.memoryUsage();
        const ks = createKeyshift(defineSecrets({ [name]: { type: t.string(), category: 'api-key' } }), { source, logger: false });
        await assert.rejects(ks.ready(), (e: KeyshiftError) => e.code === ErrorCodes.VALUE_TOO_LARGE && /65536-byte limit/.test(e.message));
        await ks.close();
        collect();
        const after = process.memoryUsage();
        const growth = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
        assert.ok(growth < 2 * LIMIT, `${name}: heap + buffers grew ${growth} bytes`);
        tc.diagnostic(`${name}: refused; heap + buffer growth ${growth} bytes (limit ${LIMIT})`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Plan 22: checksum mismatch', () => {
  it('a wrong data_crc32c from the emulator: the version is rejected, the last-known-good stays, an alert names entry and version; a missing checksum is accepted', async () => {
    const gcp = await gcpStore();
    try {
      await gcp.set('API_KEY', 'fake-v1');
      const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } }), { source: gcp.source(), logger: false, minRefreshIntervalMs: 1 });
      await ks.ready();
      const rules = createAlertRules([ks], { logger: false });
      await gcp.set('API_KEY', 'fake-v2');
      gcp.emulator.faults.inject('AccessSecretVersion', { checksum: 'bad' });
      const [result] = await ks.refresh('API_KEY');
      assert.equal(result?.outcome, 'rejected');
      assert.equal(result?.error?.code, ErrorCodes.CHECKSUM_MISMATCH);
      assert.equal(ks.get('API_KEY').reveal(), 'fake-v1');
      const alert = rules.firing()[0];
      assert.equal(alert?.rule, 'rejected');
      assert.match(alert?.message ?? '', /version 2 of API_KEY was rejected \(KS_ERR_CHECKSUM_MISMATCH\); version 1 stays in service/);
      gcp.emulator.faults.inject('AccessSecretVersion', { checksum: 'omit' });
      const [accepted] = await ks.refresh('API_KEY');
      assert.equal(accepted?.outcome, 'changed');
      assert.equal(ks.get('API_KEY').reveal(), 'fake-v2');
      assert.equal(rules.firing().length, 0, 'the alert resolves');
      gcp.clear();
      await rules.close();
      await ks.close();
    } finally {
      await gcp.close();
    }
  });
});
