import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeText } from '../../src/core/_decode-text.ts';
import { ErrorCodes, KeyshiftError } from '../../src/index.ts';
import type { Source } from '../../src/types.ts';

export interface ConformanceTarget {
  /** Builds the source (and whatever server it talks to). */
  setup(): Promise<{ source: Source; put(name: string, value: string): Promise<void>; teardown(): Promise<void> }>;
  capabilities: {
    /** put() makes a new version visible to get(). */
    write: boolean;
    /** The source has watch() and hears of put(). */
    watch: boolean;
    /** get() refuses values over maxBytes itself. */
    sizeCap: boolean;
    /** get() reports SourceValue.order, growing with every new version (the served version never goes backwards). */
    ordered: boolean;
  };
}

const opts = (maxBytes = 64 * 1024) => ({ signal: new AbortController().signal, maxBytes });

/** One suite for every source: the contract of src/types.ts `Source`. */
export function testSource(name: string, target: ConformanceTarget): void {
  describe(`Source conformance: ${name}`, () => {
    let ctx: Awaited<ReturnType<ConformanceTarget['setup']>>;
    before(async () => {
      ctx = await target.setup();
      await ctx.put('CONF_A', 'alpha');
    });
    after(async () => {
      await ctx.source.close?.();
      await ctx.source.close?.(); // idempotent
      await ctx.teardown();
    });

    it('has a fixed, non-empty kind', () => {
      assert.match(ctx.source.kind, /^[a-z][a-z0-9()>-]*$/);
    });

    it('returns the value and a version for an existing entry', async () => {
      const got = await ctx.source.get('CONF_A', opts());
      assert.ok(got);
      assert.equal(decodeText(got.value, 1024, 'CONF_A'), 'alpha');
      assert.equal(typeof got.version, 'string');
      assert.ok(got.version.length > 0);
    });

    it('resolves undefined for a missing entry: not-found is never a failure', async () => {
      assert.equal(await ctx.source.get('CONF_MISSING_ENTRY', opts()), undefined);
    });

    if (target.capabilities.write) {
      it('gives a new version a new version id', async () => {
        const first = await ctx.source.get('CONF_A', opts());
        await ctx.put('CONF_A', 'beta');
        const second = await ctx.source.get('CONF_A', opts());
        assert.notEqual(second?.version, first?.version);
        assert.equal(decodeText(second?.value ?? '', 1024, 'CONF_A'), 'beta');
      });
    }

    if (target.capabilities.ordered) {
      it('orders its versions: every answer has an order, and a new version a larger one', async () => {
        const first = await ctx.source.get('CONF_ORDER', opts());
        await ctx.put('CONF_ORDER', 'one');
        const second = await ctx.source.get('CONF_ORDER', opts());
        await ctx.put('CONF_ORDER', 'two');
        const third = await ctx.source.get('CONF_ORDER', opts());
        assert.equal(first, undefined);
        for (const got of [second, third]) assert.ok(typeof got?.order === 'number' || typeof got?.order === 'bigint', 'an order');
        assert.ok((third?.order ?? 0) > (second?.order ?? 0), 'the newer version orders after the older');
      });
    } else {
      it('reports no order: any different version is applied', async () => {
        await ctx.put('CONF_ORDER', 'one');
        assert.equal((await ctx.source.get('CONF_ORDER', opts()))?.order, undefined);
      });
    }

    if (target.capabilities.watch) {
      it('tells watchers about a new version', async () => {
        assert.ok(ctx.source.watch, 'watch capability declared but no watch()');
        const heard = new Promise<readonly string[] | undefined>((resolve) => {
          const dispose = ctx.source.watch?.((names) => {
            if (names === undefined || names.includes('CONF_W')) {
              dispose?.();
              resolve(names);
            }
          });
        });
        await ctx.source.get('CONF_W', opts()); // some sources only watch what they served
        await ctx.put('CONF_W', 'watched');
        const keepAlive = setInterval(() => {}, 1_000); // sources unref their watchers: hold the loop while waiting
        const names = await heard.finally(() => clearInterval(keepAlive));
        assert.ok(names === undefined || names.includes('CONF_W'));
      });
    }

    if (target.capabilities.sizeCap) {
      it('refuses a value over maxBytes with KS_ERR_VALUE_TOO_LARGE and the limit in the message', async () => {
        await ctx.put('CONF_BIG', 'x'.repeat(2048));
        await assert.rejects(
          ctx.source.get('CONF_BIG', opts(1024)),
          (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.VALUE_TOO_LARGE && /1024/.test(e.message) && !/xxxx/.test(e.message),
        );
      });
    }
  });
}
