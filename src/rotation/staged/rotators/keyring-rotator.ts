/**
 * The HMAC keyring's staged rotation (keyset-stages.ts) as a rotator:
 * - create: the keyset with a new key added verify-only (kept pending);
 * - set: that keyset is published: every instance learns the key but nobody signs with it;
 * - test: wait until every instance serves that version (its admin status), or until
 *   `minDelayMs` has passed; then a real check: a token signed by the new key, as it
 *   will be after promotion, verifies on a keyring holding the published keyset;
 * - finish: the new key promoted; the old primary verifies for `overlapMs` more;
 * - cleanup, after the overlap: keys past it are retired (their material dropped).
 * The wallet key never goes through here: the keyring refuses `*_PRIVATE_KEY` entries.
 */
import { DEFAULT_KEYRING_PROPAGATION_TIMEOUT_MS, DEFAULT_VERIFY_ROTATION_POLL_MS } from '../../../constants.ts';
import { createKeyshift } from '../../../core/create-keyshift.ts';
import { defineSecrets } from '../../../core/define-secrets.ts';
import { t } from '../../../core/codecs/index.ts';
import { ErrorCodes, KeyshiftError } from '../../../errors.ts';
import { memorySource } from '../../../sources/memory.ts';
import { addKey, createKeyset, promoteKey, retireKeys } from '../../keyring/keyset-stages.ts';
import { isKeyset } from '../../keyring/keyset-from-plain.ts';
import { type Keyset, serializeKeyset } from '../../keyring/keyset.ts';
import { createHmacKeyring } from '../../keyring/hmac-keyring.ts';
import { servedVersions } from '../rotation-verifier.ts';
import type { PendingContext, RotationValue, Rotator } from '../rotator.ts';

export interface HmacKeyringRotatorOptions {
  /** How long the old primary keeps verifying after the promotion: at least the token TTL plus clock skew (the keyring's overlapMs). */
  overlapMs: number;
  /** Admin base URLs of every instance holding the keyring: the promotion waits until each one's /admin/status serves the new keyset. Default: none. */
  instances?: readonly string[];
  /** Bearer token of those admin surfaces. Required with `instances`. */
  adminToken?: string;
  /** Or a check of your own: resolves true when every instance serves `version` (a store version, "7"). Default: none. */
  instancesServe?: (version: string, signal: AbortSignal) => Promise<boolean>;
  /** Promote this long after the key was added even if not every instance was seen holding it. Default: never (with instances), required without. */
  minDelayMs?: number;
  /** Give up waiting for the instances after this long: the rotation fails at its test stage and resumes there. Default 60,000 ms. */
  propagationTimeoutMs?: number;
  /** Time between two polls of the instances. Default 50 ms. */
  pollIntervalMs?: number;
}

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `hmacKeyringRotator(): ${message}`);
}

const keysetOf = (value: RotationValue): Keyset => JSON.parse(value.text()) as Keyset;

/** The key the pending keyset added: verify-only and never promoted. */
function addedKid(ctx: PendingContext): string {
  const added = keysetOf(ctx.pending).keys.find((k) => k.state === 'verify-only' && k.promotedAt === undefined);
  if (added === undefined) throw new KeyshiftError(ErrorCodes.STORE_CORRUPT, `secret ${ctx.name}: the pending keyset adds no key`, { entry: ctx.name });
  return added.kid;
}

/** Signs with the keyset as it will be after promotion; verifies with the keyset the instances serve now. */
async function signatureCheck(promoted: string, published: string, name: string): Promise<void> {
  const declaration = defineSecrets({ KEYSET: { type: t.string(), category: 'signing-key', rotation: 'keyring' } });
  const open = async (keyset: string) => {
    const ks = createKeyshift(declaration, { source: memorySource({ values: { KEYSET: keyset } }), logger: false, name: 'rotation-test' });
    await ks.ready();
    return { ks, ring: createHmacKeyring({ keyshift: ks, entry: 'KEYSET', overlapMs: 60_000, tokenTtlMs: 30_000, clockSkewMs: 1_000, logger: false }) };
  };
  const signer = await open(promoted);
  const verifier = await open(published);
  try {
    const result = await verifier.ring.verify(signer.ring.sign('keyshift rotation test'));
    if (!result.ok) {
      throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `a token signed by the new key of ${name} does not verify on the published keyset (${result.reason})`, { entry: name });
    }
  } finally {
    await Promise.all([signer.ks.close(), verifier.ks.close()]);
  }
}

export function hmacKeyringRotator(options: HmacKeyringRotatorOptions): Rotator {
  if (!(options.overlapMs > 0)) throw invalid('overlapMs must be positive: the old primary keeps verifying in-flight tokens');
  const instances = options.instances ?? [];
  if (instances.length > 0 && (options.adminToken === undefined || options.adminToken.length < 16)) throw invalid('instances need adminToken (16 characters or more)');
  if (instances.length === 0 && options.instancesServe === undefined && options.minDelayMs === undefined) {
    throw invalid('give instances (or instancesServe) to wait for, or a minDelayMs before promotion');
  }
  const timeoutMs = options.propagationTimeoutMs ?? DEFAULT_KEYRING_PROPAGATION_TIMEOUT_MS;
  const pollMs = options.pollIntervalMs ?? DEFAULT_VERIFY_ROTATION_POLL_MS;

  /** The instances not yet serving `version` of `name` (every one, when a status cannot be had). */
  const lagging = async (name: string, version: string, signal: AbortSignal): Promise<string[]> => {
    if (options.instancesServe !== undefined) return (await options.instancesServe(version, signal)) ? [] : ['instancesServe()'];
    const checks = await Promise.all(
      instances.map(async (base) => {
        try {
          const response = await fetch(new URL('admin/status', base.endsWith('/') ? base : `${base}/`), {
            headers: { authorization: `Bearer ${options.adminToken}` },
            signal: AbortSignal.any([signal, AbortSignal.timeout(Math.max(pollMs * 20, 2_000))]),
          });
          const served = response.ok ? servedVersions(await response.json(), name) : [];
          return served.length > 0 && served.every((v) => v === version) ? undefined : base;
        } catch {
          return base;
        }
      }),
    );
    return checks.filter((b): b is string => b !== undefined);
  };

  /** Resolves once every instance serves `version`, or the minimum delay since `addedAt` has passed. */
  const waitForInstances = async (ctx: PendingContext, version: string, addedAt: number): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    const canPoll = instances.length > 0 || options.instancesServe !== undefined;
    for (;;) {
      const late = canPoll ? await lagging(ctx.name, version, ctx.signal) : ['(none polled)'];
      if (late.length === 0) return;
      if (options.minDelayMs !== undefined && Date.now() - addedAt >= options.minDelayMs) return;
      if (performance.now() > deadline || ctx.signal.aborted) {
        const names = late.map((b) => b.replace(/\/\/[^@/]*@/, '//')).join(', ');
        throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `the new key of ${ctx.name} cannot be promoted: ${names} did not serve version ${version} within ${timeoutMs} ms`, {
          entry: ctx.name,
          details: { version },
        });
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };

  return {
    kind: 'hmac-keyring',

    async create(ctx) {
      const now = Date.now();
      if (ctx.current !== undefined && !isKeyset(ctx.current.text())) {
        throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `secret ${ctx.name} holds a plain value, not a keyset: run keyshift keyring-migrate ${ctx.name} first (its value becomes the first key)`, {
          entry: ctx.name,
        });
      }
      return serializeKeyset(ctx.current === undefined ? createKeyset({ now }) : addKey(keysetOf(ctx.current), { now }));
    },

    async set(ctx) {
      if (ctx.current === undefined) return; // a first keyset: the finish puts it
      if (ctx.current.text() !== ctx.pending.text()) await ctx.publish(ctx.pending.bytes);
    },

    async test(ctx) {
      if (ctx.current === undefined) return;
      const kid = addedKid(ctx);
      const addedAt = Date.parse(keysetOf(ctx.pending).keys.find((k) => k.kid === kid)?.addedAt ?? '');
      await waitForInstances(ctx, String(ctx.current.version), addedAt);
      const promoted = promoteKey(keysetOf(ctx.pending), kid, { now: Date.now(), overlapMs: options.overlapMs, minDelayMs: 0, instancesReady: true });
      await signatureCheck(serializeKeyset(promoted), ctx.current.text(), ctx.name);
    },

    async finish(ctx) {
      if (ctx.current === undefined) return undefined;
      const promoted = promoteKey(keysetOf(ctx.current), addedKid(ctx), { now: Date.now(), overlapMs: options.overlapMs, minDelayMs: 0, instancesReady: true });
      return serializeKeyset(promoted);
    },

    recognise(latest, ctx) {
      if (ctx.current === undefined) return latest.text() === ctx.pending.text();
      const kid = addedKid(ctx);
      return keysetOf(latest).keys.some((k) => k.kid === kid && k.state === 'primary');
    },

    async cleanup(ctx) {
      if (ctx.current === undefined) return;
      const retired = serializeKeyset(retireKeys(keysetOf(ctx.current), { now: Date.now() }));
      if (retired !== ctx.current.text()) await ctx.publish(retired);
    },

    // The promotion's overlap, plus a second so the old key is past its retiredAt when the cleanup runs.
    cleanupAfterMs: options.overlapMs + 1_000,
  };
}
