/**
 * Where a staged rotation on AWS Secrets Manager keeps its progress: in the secret's
 * tags (AWS secrets have no other metadata a caller may write, and no etag). The pending
 * value itself is the version labelled AWSPENDING, whose VersionId is the rotation id.
 * Tag values hold at most 256 characters of letters, digits, spaces and `+ - = . _ : / @`,
 * so each tag is a line of `key=value` words:
 *
 *   keyshift:rotation          id=<VersionId> rotator=<kind> stage=<stage> attempts=<n> started=<ms> [cleanup=<ms>]
 *   keyshift:rotation-versions base=<VersionId|none> [final=<VersionId>]
 *   keyshift:rotation-lease    holder=<runner> until=<ms>
 *   keyshift:rotation-error stage=<stage> code=<KS_ERR_*> at=<ms>
 *   keyshift:last-rotation  rotator=<kind> version=<VersionId> previous=<VersionId|none> at=<ms>
 */
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { RotationStage } from './_rotation-state.ts';

export const ROTATION_TAG = 'keyshift:rotation';
export const VERSIONS_TAG = 'keyshift:rotation-versions';
export const LEASE_TAG = 'keyshift:rotation-lease';
export const ERROR_TAG = 'keyshift:rotation-error';
export const LAST_TAG = 'keyshift:last-rotation';
export const RECORD_TAGS = [ROTATION_TAG, VERSIONS_TAG, LEASE_TAG, ERROR_TAG] as const;
/** AWS's limit on a tag value. */
const MAX_TAG_VALUE = 256;

const STAGES: readonly RotationStage[] = ['create', 'set', 'test', 'finish', 'cleanup'];

/** A rotation under way on AWS. Versions are AWS VersionIds. */
export interface AwsRotationState {
  /** The rotation id: the VersionId (ClientRequestToken) of its AWSPENDING version. */
  readonly id: string;
  readonly rotator: string;
  readonly stage: RotationStage;
  /** The AWSCURRENT version when it started (undefined: the secret had none). */
  readonly base: string | undefined;
  readonly attempts: number;
  readonly startedAt: string;
  /** The version made AWSCURRENT by the finish (the pending one, or a final value the rotator chose). */
  readonly final?: string;
  /** When the cleanup may run (ms). */
  readonly cleanupAfter?: number;
  readonly holder: string;
  readonly leaseUntil: number;
  readonly lastError?: { readonly stage: RotationStage; readonly code: string; readonly at: string };
}

export interface AwsLastRotation {
  readonly rotator: string;
  readonly version: string;
  readonly previous: string | undefined;
  readonly at: string;
}

/** Makes a word safe for a tag value (AWS's tag alphabet, no spaces), at most `max` characters. */
export function tagWord(text: string, max = 64): string {
  return text.replace(/[^A-Za-z0-9+\-=._:/@]/g, '_').slice(0, max) || '_';
}

function words(line: string | undefined): Record<string, string> | undefined {
  if (line === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const word of line.split(' ')) {
    const at = word.indexOf('=');
    if (at > 0) out[word.slice(0, at)] = word.slice(at + 1);
  }
  return out;
}

const line = (fields: Record<string, string | number | undefined>): string =>
  Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? String(v) : tagWord(v as string, 100)}`)
    .join(' ');

const isMs = (v: string | undefined): v is string => v !== undefined && /^[0-9]{1,16}$/.test(v);
const iso = (ms: string): string => new Date(Number(ms)).toISOString();

/** The tags that record `state` (rotation, lease, and the last failure when there is one). */
export function stateTags(state: AwsRotationState): Record<string, string> {
  const tags: Record<string, string> = {
    [ROTATION_TAG]: line({
      id: state.id,
      rotator: state.rotator,
      stage: state.stage,
      attempts: state.attempts,
      started: Date.parse(state.startedAt),
      cleanup: state.cleanupAfter,
    }),
    [VERSIONS_TAG]: line({ base: state.base ?? 'none', final: state.final }),
    [LEASE_TAG]: line({ holder: state.holder, until: state.leaseUntil }),
  };
  if (state.lastError) tags[ERROR_TAG] = line({ stage: state.lastError.stage, code: state.lastError.code, at: Date.parse(state.lastError.at) });
  for (const [key, value] of Object.entries(tags)) {
    if (value.length > MAX_TAG_VALUE) {
      throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `the rotation record's tag ${key} would take ${value.length} characters; AWS allows ${MAX_TAG_VALUE} (a VersionId or rotator kind too long)`, {
        details: { tag: key, length: value.length },
      });
    }
  }
  return tags;
}

export function lastTag(last: AwsLastRotation): Record<string, string> {
  return { [LAST_TAG]: line({ rotator: last.rotator, version: last.version, previous: last.previous ?? 'none', at: Date.parse(last.at) }) };
}

/** The rotation recorded in `tags`, or undefined; a malformed record is KS_ERR_STORE_CORRUPT naming the secret. */
export function readAwsState(name: string, tags: Readonly<Record<string, string>>): AwsRotationState | undefined {
  const r = words(tags[ROTATION_TAG]);
  if (r === undefined) return undefined;
  const lease = words(tags[LEASE_TAG]) ?? {};
  const versions = words(tags[VERSIONS_TAG]) ?? {};
  const ok =
    r.id !== undefined &&
    r.id !== '' &&
    r.rotator !== undefined &&
    STAGES.includes(r.stage as RotationStage) &&
    versions.base !== undefined &&
    /^[0-9]{1,6}$/.test(r.attempts ?? '') &&
    isMs(r.started) &&
    (r.cleanup === undefined || isMs(r.cleanup));
  if (!ok) {
    throw new KeyshiftError(
      ErrorCodes.STORE_CORRUPT,
      `AWS secret ${name}: tag ${ROTATION_TAG} is not a rotation record (another tool wrote it); inspect it, then run keyshift rotate ${name} --abandon`,
      { entry: name },
    );
  }
  const failure = words(tags[ERROR_TAG]);
  const lastError =
    failure && STAGES.includes(failure.stage as RotationStage) && failure.code !== undefined && isMs(failure.at)
      ? { stage: failure.stage as RotationStage, code: failure.code, at: iso(failure.at) }
      : undefined;
  return {
    id: r.id as string,
    rotator: r.rotator as string,
    stage: r.stage as RotationStage,
    base: versions.base === 'none' ? undefined : versions.base,
    attempts: Number(r.attempts),
    startedAt: iso(r.started as string),
    ...(versions.final === undefined ? {} : { final: versions.final }),
    ...(r.cleanup === undefined ? {} : { cleanupAfter: Number(r.cleanup) }),
    holder: lease.holder ?? '',
    leaseUntil: isMs(lease.until) ? Number(lease.until) : 0,
    ...(lastError === undefined ? {} : { lastError }),
  };
}

export function readAwsLast(tags: Readonly<Record<string, string>>): AwsLastRotation | undefined {
  const l = words(tags[LAST_TAG]);
  if (l?.rotator === undefined || l.version === undefined || !isMs(l.at)) return undefined;
  return { rotator: l.rotator, version: l.version, previous: l.previous === undefined || l.previous === 'none' ? undefined : l.previous, at: iso(l.at) };
}
