/**
 * A rollback as a rotation: the value of an earlier version becomes a new version, so
 * every reader of `latest` serves it again at its next refresh, through the same
 * conditional write and records as any rotation. (Disabling the bad version alone does
 * not roll readers back: they keep their last-known-good value, the bad one, and alert.)
 */
import { ErrorCodes, KeyshiftError } from '../../../errors.ts';
import { type RotationStore, readLastRotation, readRecord } from '../_rotation-state.ts';
import type { Rotator } from '../rotator.ts';

/**
 * The version 'previous' names: the alias `previous` when the secret has one; else, when
 * the latest version was put by a rotation, the version that rotation replaced; else
 * (the latest was a plain put) the newest enabled version before the latest.
 */
export async function previousVersionOf(store: RotationStore, name: string): Promise<number | string> {
  const info = await store.getSecret(name);
  if (info.aliases.previous !== undefined) return 'previous';
  const record = await readRecord(store, name);
  const last = record && readLastRotation(record);
  if (last !== undefined && last.version === info.latest && last.previous > 0) return last.previous;
  const latest = info.latest ?? 0;
  const older = (await store.versions(name)).filter((v) => v.state === 'enabled' && v.version < latest).sort((a, b) => b.version - a.version);
  if (older[0] !== undefined) return older[0].version;
  throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `${name} has no enabled version before the latest: name the version to roll back to`, { entry: name });
}

/**
 * `version`: a version number, an alias, or 'previous' (the alias `previous`, else the
 * version the rotation that put the latest replaced, else the newest enabled one before the latest).
 */
export function copyVersion(version: number | string): Rotator {
  return {
    kind: 'rollback',
    async create(ctx) {
      const chosen = version === 'previous' ? await previousVersionOf(ctx.store, ctx.name) : version;
      const { value, version: number } = await ctx.store.access(ctx.name, chosen);
      if (number === ctx.current?.version) {
        value.fill(0);
        throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `version ${number} of ${ctx.name} is already the latest; nothing to roll back to`, { entry: ctx.name });
      }
      return value;
    },
  };
}
