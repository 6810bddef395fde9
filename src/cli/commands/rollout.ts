import { fractionAt, parseRolloutMarker, ROLLOUT_ANNOTATION, resolveAdoption } from '../../core/adoption.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { writeRolloutMarker } from '../../core/rollout-marker.ts';
import type { RolloutMarker } from '../../types.ts';
import { STORE_OPTIONS, parseCommandArgs } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';
import { formatTable, writeJson } from '../_output.ts';
import { withCliStore } from '../_store.ts';

const OPTIONS = {
  ...STORE_OPTIONS,
  /** Serve the latest version everywhere now (a `promoted` marker). */
  promote: { type: 'boolean', default: false },
  /** Halt the latest version's rollout (a `halted` marker): no instance adopts it, those serving it step back. */
  halt: { type: 'boolean', default: false },
  /** Remove the marker: a halted rollout goes on (its bake starts again). */
  resume: { type: 'boolean', default: false },
  /** The version to act on; default: the latest enabled one. */
  version: { type: 'string' },
  /** Why (with --halt), kept in the marker for operators. */
  reason: { type: 'string' },
  /** With --steps, estimates how far the rollout is (the entry's policy lives in the service's declaration). */
  'bake-ms': { type: 'string' },
  steps: { type: 'string' },
} as const;

/** What `keyshift rollout NAME` shows (and prints with --json). */
export interface RolloutView {
  name: string;
  version: string | undefined;
  previous: string | undefined;
  created: string | undefined;
  ageMs: number | undefined;
  state: 'rolling-out' | 'halted' | 'promoted' | 'none';
  marker: RolloutMarker | undefined;
  /** The fraction of the fleet meant to serve the version now, from --bake-ms/--steps. */
  fraction: number | undefined;
  markerError: string | undefined;
}

/**
 * `keyshift rollout NAME`: the canary rollout of a secret (docs/adoption.md), from the
 * store: the latest version, its age, the marker (halted with the reason and the failures
 * counted, or promoted). `--promote`, `--halt`, `--resume` write or remove the marker,
 * conditionally on the secret's etag; every instance acts on it at its next fetch.
 */
export const rollout = defineCommand({
  name: 'rollout',
  summary: 'show or steer the canary rollout of a secret (--promote, --halt, --resume)',
  usage:
    'keyshift rollout NAME [--promote | --halt [--reason TEXT] | --resume] [--version N] [--bake-ms MS [--steps 0.1,0.5]] [--store DIR|gcp://PROJECT] [--endpoint E] [--json]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('rollout', args, OPTIONS, ['NAME']);
    const name = positionals[0]!;
    const actions = [values.promote, values.halt, values.resume].filter(Boolean).length;
    if (actions > 1) throw new UsageError('rollout takes one of --promote, --halt, --resume');
    if (values.reason !== undefined && !values.halt) throw new UsageError('--reason goes with --halt');
    if (values.reason !== undefined && values.reason.length > 200) throw new UsageError('--reason is at most 200 characters');
    if (values.steps !== undefined && values['bake-ms'] === undefined) throw new UsageError('--steps goes with --bake-ms');
    if (values.version !== undefined && !/^[1-9][0-9]{0,15}$/.test(values.version)) throw new UsageError('--version must be a version number');
    const asked = values.version === undefined ? undefined : Number(values.version);
    const policy =
      values['bake-ms'] === undefined
        ? undefined
        : resolveAdoption(name, 'other', { bakeMs: Number(values['bake-ms']), ...(values.steps ? { steps: values.steps.split(',').map(Number) } : {}) }, false);
    const view = await withCliStore(values, io, false, async (store) => {
      if (store.rotation === undefined) throw new UsageError('rollout markers live in the local store and Secret Manager (annotations); not on aws://');
      const annotated = store.rotation;
      const versions = await store.versions(name);
      // --version names a version of the secret: a marker for one that does not exist would halt or promote nothing
      if (asked !== undefined && !versions.some((v) => v.version === asked)) {
        throw new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, `secret ${name} has no version ${values.version}`, { entry: name });
      }
      const enabled = versions.filter((v) => v.state === 'enabled').sort((a, b) => b.version - a.version);
      const target = asked !== undefined ? String(asked) : enabled[0] ? String(enabled[0].version) : undefined;
      if (actions === 1) {
        if (target === undefined) throw new UsageError(`secret ${name} has no enabled version to act on`);
        const at = new Date().toISOString();
        const marker: RolloutMarker | undefined = values.promote
          ? { version: target, state: 'promoted', at }
          : values.halt
            ? { version: target, state: 'halted', reason: values.reason ?? 'halted by an operator (keyshift rollout --halt)', at }
            : undefined;
        await writeRolloutMarker(annotated, name, marker);
      }
      const info = await store.getSecret(name);
      let marker: RolloutMarker | undefined;
      let markerError: string | undefined;
      try {
        marker = parseRolloutMarker(name, info.annotations[ROLLOUT_ANNOTATION]);
      } catch (error) {
        markerError = error instanceof KeyshiftError ? error.message : String(error);
      }
      const latest = enabled.find((v) => String(v.version) === target);
      const previous = enabled.find((v) => String(v.version) !== target && (latest === undefined || v.version < latest.version));
      const ageMs = latest ? Date.now() - Date.parse(latest.createTime) : undefined;
      const state: RolloutView['state'] = marker !== undefined && marker.version === target ? (marker.state === 'halted' ? 'halted' : 'promoted') : target === undefined ? 'none' : 'rolling-out';
      const fraction =
        policy === undefined || ageMs === undefined ? undefined : state === 'halted' ? 0 : state === 'promoted' ? 1 : fractionAt(policy, ageMs);
      return { name, version: target, previous: previous ? String(previous.version) : undefined, created: latest?.createTime, ageMs, state, marker, fraction, markerError } satisfies RolloutView;
    });
    if (values.json) writeJson(io, view);
    else {
      const rows: string[][] = [
        ['version', view.version ?? '-'],
        ['previous', view.previous ?? '-'],
        ['created', view.created ?? '-'],
        ['state', view.state],
        ['fleet fraction', view.fraction === undefined ? '- (give --bake-ms)' : `${Math.round(view.fraction * 100)} %`],
        ['reason', view.marker?.reason ?? '-'],
        ['marker', view.marker ? `${view.marker.state} ${view.marker.version} at ${view.marker.at ?? '?'}` : view.markerError ? 'unreadable (ignored by instances)' : '-'],
      ];
      io.stdout.write(formatTable(['ROLLOUT', name], rows));
    }
    return ExitCode.OK;
  },
});
