/** Fault rules, the CRC32C helper, and what close() does to held calls and handles. */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrpcCode } from '../../src/gcp/grpc-codes.ts';
import { crc32c, FaultInjector } from '../../src/emulator/index.ts';
import { codeOf, seed, startFixture } from './_fixture.ts';

describe('FaultInjector', () => {
  it('applies a rule to the next N calls, then drops it', () => {
    const faults = new FaultInjector();
    faults.inject('AccessSecretVersion', { code: 'UNAVAILABLE', times: 2 });
    assert.equal(faults.take('AccessSecretVersion')?.code, 'UNAVAILABLE');
    assert.equal(faults.take('AccessSecretVersion')?.code, 'UNAVAILABLE');
    assert.equal(faults.take('AccessSecretVersion'), undefined);
  });

  it("prefers a method's own rule to '*', and a disposer removes only its own rule", () => {
    const faults = new FaultInjector();
    faults.inject('*', { latencyMs: 50 });
    const remove = faults.inject('GetSecret', { code: 'NOT_FOUND' });
    assert.equal(faults.take('GetSecret')?.code, 'NOT_FOUND');
    assert.equal(faults.take('ListSecrets')?.latencyMs, 50);
    remove();
    assert.equal(faults.take('GetSecret')?.latencyMs, 50);
    const stale = faults.inject('GetSecret', { hang: true });
    faults.inject('GetSecret', { checksum: 'bad' });
    stale(); // replaced already: a no-op
    assert.equal(faults.take('GetSecret')?.checksum, 'bad');
    faults.clear();
    assert.equal(faults.list().size, 0);
  });

  it('refuses a non-positive times and a negative latency', () => {
    const faults = new FaultInjector();
    assert.throws(() => faults.inject('*', { times: 0 }), RangeError);
    assert.throws(() => faults.inject('*', { latencyMs: -1 }), RangeError);
  });
});

describe('crc32c', () => {
  it('matches the Castagnoli check value and RFC 3720 vectors', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });
});

describe('Emulator: faults over the wire, and close()', () => {
  it('adds latency, then answers', async () => {
    const f = await startFixture();
    try {
      await seed(f, 'SLOW', 'fake');
      f.emulator.faults.inject('AccessSecretVersion', { latencyMs: 30, times: 1 });
      const [got] = await f.client.accessSecretVersion({ name: `${f.secret('SLOW')}/versions/latest` });
      assert.equal(got.name, `${f.secret('SLOW')}/versions/1`);
    } finally {
      await f.close();
    }
  });

  it('answers a hung call and a delayed call with UNAVAILABLE at close(), and leaves no handle behind', async () => {
    const baseline = new Set(process.getActiveResourcesInfo());
    const f = await startFixture();
    await seed(f, 'HUNG', 'fake');
    f.emulator.faults.inject('AccessSecretVersion', { hang: true, times: 1 });
    // retry: null, or the client would retry the UNAVAILABLE it gets at close() until its deadline.
    const hung = codeOf(
      f.client.accessSecretVersion({ name: `${f.secret('HUNG')}/versions/latest` }, { timeout: 60_000, retry: null }),
    );
    f.emulator.faults.inject('GetSecret', { latencyMs: 60_000, times: 1 });
    const delayed = codeOf(f.client.getSecret({ name: f.secret('HUNG') }, { timeout: 60_000 }));
    while (f.emulator.callCount('GetSecret') === 0 || f.emulator.callCount('AccessSecretVersion') === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    await f.emulator.close();
    assert.equal(await hung, GrpcCode.UNAVAILABLE);
    assert.equal(await delayed, GrpcCode.UNAVAILABLE);
    await f.close();
    const left = process.getActiveResourcesInfo().filter((r) => !baseline.has(r) && r !== 'TTYWrap');
    assert.deepEqual(left, []);
  });
});
