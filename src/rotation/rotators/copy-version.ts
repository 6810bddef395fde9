/**
 * A rollback as a rotation: the value of an earlier version becomes a new version, so
 * every reader of `latest` serves it again at its next refresh, through the same
 * conditional write and records as any rotation. (Disabling the bad version alone does
 * not roll readers back: they keep their last-known-good value, the bad one, and alert.)
 */
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { readLastRotation, readRecord } from '../_rotation-state.ts';
import type { Rotator } from '../rotator.ts';

/**
 * `version`: a version number, an alias, or 'previous': the alias `previous` when the
 * secret has one, else the version the last finished rotation replaced.
 */
export function copyVersion(version: number | string): Rotator {
  return {
    kind: 'rollback',
    async create(ctx) {
      let chosen = version;
      if (version === 'previous' && (await ctx.store.getSecret(ctx.name)).aliases.previous === undefined) {
        const record = await readRecord(ctx.store, ctx.name);
        const last = record && readLastRotation(record);
        if (last === undefined || last.previous === 0) {
          throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `${ctx.name} has no previous version on record: name the version to roll back to`, { entry: ctx.name });
        }
        chosen = last.previous;
      }
      const { value, version: number } = await ctx.store.access(ctx.name, chosen);
      if (number === ctx.current?.version) {
        value.fill(0);
        throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `version ${number} of ${ctx.name} is already the latest; nothing to roll back to`, { entry: ctx.name });
      }
      return value;
    },
  };
}
