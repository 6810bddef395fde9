import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadOptionalPeer } from '../../_optional-peer.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { copyVersion, previousVersionOf } from '../../rotation/staged/rotators/copy-version.ts';
import { isKeyset } from '../../rotation/keyring/keyset-from-plain.ts';
import { hmacKeyringRotator } from '../../rotation/staged/rotators/keyring-rotator.ts';
import { pgPassword } from '../../rotation/staged/rotators/pg-password.ts';
import { randomSecret } from '../../rotation/staged/rotators/random-secret.ts';
import { type AwsRotationRunner, createAwsRotationRunner } from '../../rotation/staged/aws-rotation-runner.ts';
import type { AwsRotationStore } from '../../rotation/staged/aws-rotation-store.ts';
import {
  createRotationRunner,
  type RotationAdoption,
  type RotationResult,
  type RotationStore,
  type Rotator,
  pendingSecretName,
  readLastRotation,
  readRecord,
  readState,
  refuseNeverRotated,
} from '../../rotation/staged/rotation-runner.ts';
import { STORE_OPTIONS, parseCommandArgs } from '../_args.ts';
import { type CliIo, ExitCode, defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';
import { writeJson } from '../_output.ts';
import { type CliStore, withCliStore } from '../_store.ts';

const OPTIONS = {
  ...STORE_OPTIONS,
  rotator: { type: 'string' },
  length: { type: 'string' },
  alphabet: { type: 'string' },
  prefix: { type: 'string' },
  hook: { type: 'string' },
  role: { type: 'string' },
  roles: { type: 'string' },
  'user-secret': { type: 'string' },
  'if-latest': { type: 'string' },
  rollback: { type: 'boolean', default: false },
  to: { type: 'string' },
  status: { type: 'boolean', default: false },
  abandon: { type: 'boolean', default: false },
  overlap: { type: 'string' },
  instances: { type: 'string' },
  token: { type: 'string' },
  'min-delay': { type: 'string' },
  /** The entry rolls out by canary with this bake: finish only once the fleet adopted the version; a halted rollout fails the rotation. */
  'bake-ms': { type: 'string' },
  'margin-ms': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

const isRotator = (v: unknown): v is Rotator =>
  typeof v === 'object' && v !== null && typeof (v as Rotator).kind === 'string' && typeof (v as Rotator).create === 'function';

/** A hook module: its default export (or `rotator`) is a Rotator, or a function that makes one. */
async function loadHook(file: string, io: CliIo): Promise<Rotator> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(io.cwd, file)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--hook: the module could not be loaded (${error instanceof Error ? error.name : typeof error})`);
  }
  const exported = module.default ?? module.rotator;
  const made: unknown = typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  if (!isRotator(made)) throw new UsageError('--hook: the module must export (as default or `rotator`) a rotator { kind, create, set?, test? } or a function returning one');
  return made;
}

function count(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,6}$/.test(text)) throw new UsageError(`${option} must be a number`);
  return Number(text);
}

/** The admin connection and test login of `--rotator pg` come from pg's environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE). */
async function pgRotator(values: Values, io: CliIo): Promise<{ rotator: Rotator; close(): Promise<void> }> {
  const pg = (await loadOptionalPeer('pg', 'keyshift rotate --rotator pg', () => import('pg'))).default;
  const env = io.env;
  const connection = { ...(env.PGHOST ? { host: env.PGHOST } : {}), ...(env.PGPORT ? { port: Number(env.PGPORT) } : {}), ...(env.PGDATABASE ? { database: env.PGDATABASE } : {}) };
  const admin = new pg.Pool({ ...connection, user: env.PGUSER, password: env.PGPASSWORD, max: 1 });
  admin.on('error', () => undefined);
  const length = count(values.length, '--length');
  const common = { admin, connection, pg, ...(length === undefined ? {} : { length }) };
  let rotator: Rotator;
  if (values.roles !== undefined) {
    const roles = values.roles.split(',');
    if (roles.length !== 2 || values['user-secret'] === undefined) throw new UsageError('--roles takes two roles (A,B) and needs --user-secret NAME');
    rotator = pgPassword({ ...common, strategy: 'alternating-users', roles: [roles[0]!, roles[1]!], userSecret: values['user-secret'] });
  } else {
    if (values.role === undefined) throw new UsageError('--rotator pg needs --role ROLE (or --roles A,B --user-secret NAME)');
    rotator = pgPassword({ ...common, role: values.role });
  }
  return { rotator, close: () => admin.end() };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `24h`, `7d`, or bare milliseconds. */
function durationMs(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const m = /^([0-9]{1,9})(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new UsageError(`${option} must be a duration: milliseconds, or a number with ms, s, m, h or d (24h)`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1);
}

/**
 * The HMAC keyring's stages: a key added verify-only and published, a wait until every
 * instance serves that keyset (`--instances`, their admin status) or `--min-delay` has
 * passed, the promotion, and (a later run, after `--overlap`) the former primary retired.
 */
function keyringRotator(values: Values, io: CliIo): Rotator {
  const overlapMs = durationMs(values.overlap, '--overlap');
  if (overlapMs === undefined) throw new UsageError('an HMAC keyset rotation needs --overlap DURATION: how long the former primary keeps verifying (the token lifetime plus clock skew)');
  const minDelayMs = durationMs(values['min-delay'], '--min-delay');
  const instances = values.instances === undefined ? [] : values.instances.split(',').filter((u) => u !== '');
  if (instances.length === 0 && minDelayMs === undefined) {
    throw new UsageError('an HMAC keyset rotation needs --instances URL1,URL2 (admin addresses of every holder, to wait for) or --min-delay DURATION');
  }
  const adminToken = values.token ?? io.env.KEYSHIFT_ADMIN_TOKEN;
  if (instances.length > 0 && !adminToken) throw new UsageError('--instances needs the admin token: --token T or $KEYSHIFT_ADMIN_TOKEN');
  return hmacKeyringRotator({
    overlapMs,
    ...(instances.length > 0 ? { instances, adminToken } : {}),
    ...(minDelayMs === undefined ? {} : { minDelayMs }),
  });
}

async function chooseRotator(values: Values, io: CliIo): Promise<{ rotator: Rotator; close?(): Promise<void> }> {
  if (values.rollback) return { rotator: copyVersion(values.to === undefined ? 'previous' : (count(values.to, '--to') ?? 0)) };
  switch (values.rotator) {
    case 'random': {
      const length = count(values.length, '--length');
      return {
        rotator: randomSecret({
          ...(length === undefined ? {} : { length }),
          ...(values.alphabet === undefined ? {} : { alphabet: values.alphabet }),
          ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
        }),
      };
    }
    case 'hook':
      if (values.hook === undefined) throw new UsageError('--rotator hook needs --hook FILE');
      return { rotator: await loadHook(values.hook, io) };
    case 'pg':
      return pgRotator(values, io);
    case 'keyring':
      return { rotator: keyringRotator(values, io) };
    default:
      throw new UsageError('--rotator must be random, hook, pg or keyring');
  }
}

/** `--bake-ms MS [--margin-ms MS]`: the runner's `adoption`, or none. */
function adoptionOf(values: Values): RotationAdoption | undefined {
  const ms = (text: string | undefined, option: string, min: number): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^[0-9]{1,10}$/.test(text) || Number(text) < min) throw new UsageError(`${option} must be a ${min > 0 ? 'positive ' : ''}number of milliseconds`);
    return Number(text);
  };
  const bakeMs = ms(values['bake-ms'], '--bake-ms', 1);
  const marginMs = ms(values['margin-ms'], '--margin-ms', 0);
  if (bakeMs === undefined) {
    if (marginMs !== undefined) throw new UsageError('--margin-ms goes with --bake-ms');
    return undefined;
  }
  return { bakeMs, ...(marginMs === undefined ? {} : { marginMs }) };
}

function describe(result: RotationResult): string {
  const { name } = result;
  if (result.outcome === 'waiting' && result.waitingFor === 'adoption') {
    return `${name}: version ${result.version} is put (was ${result.previousVersion}) and rolling out; the fleet has adopted it after ${new Date(result.retryAt ?? 0).toISOString()} unless its rollout is halted: run keyshift rotate again then (keyshift rollout ${name} shows it)`;
  }
  if (result.outcome === 'failed' && result.error?.code === ErrorCodes.ROLLOUT_HALTED) {
    return `${name}: rotation ${result.rotationId ?? ''} failed (${result.error.code}): ${result.error.message}`;
  }
  switch (result.outcome) {
    case 'finished':
      return `${name}: version ${result.version} is current (was ${result.previousVersion}); rotation ${result.rotationId} finished`;
    case 'waiting':
      return `${name}: version ${result.version} is current (was ${result.previousVersion}); its cleanup runs after ${new Date(result.retryAt ?? 0).toISOString()}: run keyshift rotate again then`;
    case 'busy':
      return `${name}: another runner (${result.heldBy}) holds rotation ${result.rotationId} at stage ${result.stage} until ${new Date(result.retryAt ?? 0).toISOString()}`;
    case 'skipped':
      return `${name}: not rotated: the latest version is ${result.version}, not the one given to --if-latest`;
    default:
      return `${name}: rotation ${result.rotationId ?? ''} failed at stage ${result.stage} (${result.error?.code}: ${result.error?.message}); the current version stays; run keyshift rotate again to resume`;
  }
}

async function showStatus(store: RotationStore, name: string, io: CliIo, json: boolean): Promise<number> {
  const info = await store.getSecret(name);
  const record = await readRecord(store, name);
  const state = record && readState(record);
  const last = record && readLastRotation(record);
  if (json) writeJson(io, { name, latest: info.latest, aliases: info.aliases, rotation: state ?? null, lastRotation: last ?? null });
  else if (state === undefined) io.stdout.write(`${name}: no rotation under way; latest version ${info.latest ?? 'none'}${last ? `; last rotated ${last.at} (${last.rotator}, version ${last.previous} -> ${last.version})` : ''}\n`);
  else {
    const failure = state.lastError ? `; last failure at ${state.lastError.stage}: ${state.lastError.code}: ${state.lastError.message}` : '';
    io.stdout.write(`${name}: ${state.rotator} rotation ${state.id} at stage ${state.stage}, attempt ${state.attempts}, from version ${state.base}${failure}\n`);
  }
  return ExitCode.OK;
}

/**
 * Without `--rotator`, the kind the secret was last rotated with (or is being rotated
 * with): keyshift never guesses how a first value is made, because a random value in
 * place of a provider's API key or a database password would break every call.
 */
async function recordedKind(store: RotationStore, name: string): Promise<string> {
  refuseNeverRotated(name);
  const record = await readRecord(store, name);
  return kindOption(name, record && (readState(record)?.rotator ?? readLastRotation(record)?.rotator));
}

/** The `--rotator` a recorded rotator kind stands for, or the usage error saying what to give. */
function kindOption(name: string, recorded: string | undefined): string {
  if (recorded === 'random-secret') return 'random';
  const how = 'say how its next value is made with --rotator random (a value keyshift generates: tokens, webhook secrets), hook (a third-party API key, issued by its provider) or pg (a database password)';
  if (recorded === undefined) throw new UsageError(`${name} was never rotated by keyshift: ${how}`);
  if (recorded === 'rollback') throw new UsageError(`${name} was last changed by a rollback: ${how}`);
  throw new UsageError(`${name} is rotated by a ${recorded} rotator: give --rotator (hook, pg or keyring) with its options again`);
}

/** The store's staged-rotation store (local, Secret Manager); aws:// goes through awsRotate instead. */
function rotationOf(store: CliStore): RotationStore {
  if (store.rotation === undefined) throw new KeyshiftError(ErrorCodes.INTERNAL, `keyshift rotate: ${store.where} has no rotation store`);
  return store.rotation;
}

async function awsStatus(runner: AwsRotationRunner, name: string, io: CliIo, json: boolean): Promise<number> {
  const status = await runner.status(name);
  if (json) {
    writeJson(io, status);
    return ExitCode.OK;
  }
  const { rotation: state, lastRotation: last, foreignPending: foreign } = status;
  const current = `AWSCURRENT is version ${status.latest ?? 'none'}`;
  if (state !== null) {
    const failure = state.lastError ? `; last failure at ${state.lastError.stage}: ${state.lastError.code}` : '';
    io.stdout.write(`${name}: ${state.rotator} rotation ${state.id} at stage ${state.stage}, attempt ${state.attempts}, AWSPENDING version ${state.pendingVersion ?? 'none'}; ${current}${failure}\n`);
  } else if (foreign !== null) {
    io.stdout.write(`${name}: AWSPENDING is on version ${foreign.version}, put there by a rotation keyshift did not start (a rotation Lambda?); ${current}; drop it with keyshift rotate ${name} --abandon\n`);
  } else {
    io.stdout.write(`${name}: no rotation under way; ${current}${last ? `; last rotated ${last.at} (${last.rotator})` : ''}\n`);
  }
  return ExitCode.OK;
}

/** `keyshift rotate` on aws://: the AWS stage model (AWSPENDING, AWSCURRENT, AWSPREVIOUS), see aws-rotation-runner.ts. */
async function awsRotate(store: CliStore & { aws: AwsRotationStore }, name: string, values: Values, io: CliIo): Promise<RotationResult> {
  const runner = createAwsRotationRunner({ store: store.aws, logger: false });
  await store.aws.getSecret(name); // by hand, the secret must exist: a mistyped name exits 3
  if (values.rollback) return runner.rollback(name, count(values.to, '--to'), io.signal);
  let rotator = values.rotator;
  if (rotator === undefined) {
    refuseNeverRotated(name);
    const status = await runner.status(name);
    rotator = kindOption(name, status.rotation?.rotator ?? status.lastRotation?.rotator);
  }
  const chosen = await chooseRotator({ ...values, rotator }, io);
  try {
    const ifLatest = count(values['if-latest'], '--if-latest');
    return await runner.run(name, chosen.rotator, ifLatest === undefined ? {} : { ifLatest }, io.signal);
  } finally {
    await chosen.close?.();
  }
}

/** `--rollback [--to N]`: the version rolled back to must be readable and not the latest (SOURCE_NOT_FOUND exits 3, a disabled one 1). */
async function refuseRollbackTarget(store: RotationStore, name: string, to: number | string, latest: number | undefined): Promise<void> {
  const { value, version } = await store.access(name, to);
  value.fill(0);
  if (version === latest) throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `version ${version} of ${name} is already the latest; nothing to roll back to`, { entry: name });
}

const isAws = (store: CliStore): store is CliStore & { aws: AwsRotationStore } => store.aws !== undefined;

/** `keyshift rotate NAME`: runs (or resumes) a staged rotation by hand. */
export const rotate = defineCommand({
  name: 'rotate',
  summary: 'rotate a secret in stages (create, set, test, finish), resume a failed rotation, or roll back',
  usage: [
    'keyshift rotate NAME [--rotator random|hook|pg|keyring] [--if-latest N] [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]   (--rotator: required the first time)',
    '  random: [--length N] [--alphabet base64url|alphanumeric|hex|CHARS] [--prefix P]',
    '  hook:   --hook FILE (a module exporting a rotator)',
    '  pg:     --role ROLE | --roles A,B --user-secret NAME (admin connection from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)',
    '  keyring: --overlap DURATION (24h) and --instances URL1,URL2 [--token T] | --min-delay DURATION (an HMAC keyset: add, wait, promote; run again after the overlap to retire)',
    'keyshift rotate NAME --rollback [--to VERSION]   (a new version with the value of VERSION, default: alias previous; AWSPREVIOUS on aws://)',
    'keyshift rotate NAME --status | --abandon',
    'keyshift rotate NAME ... --bake-ms MS [--margin-ms MS]   (an entry with a canary policy: finish once the fleet adopted the version; a halted rollout fails the rotation, exit 1)',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('rotate', args, OPTIONS, ['NAME']);
    const name = positionals[0]!;
    if (values.status) {
      return withCliStore(values, io, false, (store) =>
        isAws(store) ? awsStatus(createAwsRotationRunner({ store: store.aws, logger: false }), name, io, values.json) : showStatus(rotationOf(store), name, io, values.json),
      );
    }
    if (values.abandon) {
      const dropped = await withCliStore(values, io, false, async (store): Promise<{ id: string; stage: string } | undefined> => {
        await store.getSecret(name); // a mistyped name exits 3, as every rotate does
        return isAws(store) ? createAwsRotationRunner({ store: store.aws, logger: false }).abandon(name) : createRotationRunner({ store: rotationOf(store), logger: false }).abandon(name);
      });
      if (values.json) writeJson(io, { name, abandoned: dropped ?? null });
      else io.stdout.write(dropped ? `${name}: rotation ${dropped.id} (stage ${dropped.stage}) abandoned; the current version stays\n` : `${name}: no rotation under way\n`);
      return ExitCode.OK;
    }
    const ifLatest = count(values['if-latest'], '--if-latest');
    const adoption = adoptionOf(values);
    // Refusals that depend on the name alone (a private key, a rotation record) come before the store is read.
    refuseNeverRotated(name);
    pendingSecretName(name);
    // A rotator given (or a rollback) is checked before the store is opened; without one, the store says which.
    let chosen = values.rollback || values.rotator !== undefined ? await chooseRotator(values, io) : undefined;
    try {
      // By hand, the secret and the store must exist: a mistyped name or --store exits 3 instead of making a new one.
      const result = await withCliStore(values, io, false, async (cliStore) => {
        if (isAws(cliStore)) {
          if (adoption !== undefined) throw new UsageError('--bake-ms is for the local store and gcp://: aws:// keeps no rollout marker (no annotations), so a rotation could not see a halt');
          return awsRotate(cliStore, name, values, io);
        }
        const store = rotationOf(cliStore);
        const info = await store.getSecret(name);
        // A rollback to a version that is missing, disabled or the latest (or with none before the latest) is refused before a rotation is recorded (it would resume into the same failure).
        if (values.rollback) {
          const to = values.to === undefined ? await previousVersionOf(store, name) : (count(values.to, '--to') ?? 0);
          await refuseRollbackTarget(store, name, to, info.latest);
        }
        chosen ??= await chooseRotator({ ...values, rotator: await recordedKind(store, name) }, io);
        // A keyring rotation of a plain value is refused before a rotation is recorded (it would resume into the same refusal).
        if (chosen.rotator.kind === 'hmac-keyring' && info.latest !== undefined && !(await readRecord(store, name))) {
          refuseNeverRotated(name);
          const latest = await store.access(name);
          if (!isKeyset(Buffer.from(latest.value).toString('utf8'))) {
            throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `secret ${name} holds a plain value, not a keyset: run keyshift keyring-migrate ${name} first (its value becomes the first key)`, {
              entry: name,
            });
          }
        }
        return createRotationRunner({ store, logger: false, ...(adoption ? { adoption } : {}) }).run(name, chosen.rotator, ifLatest === undefined ? {} : { ifLatest }, io.signal);
      });
      if (values.json) writeJson(io, { ...result, error: result.error?.toJSON() });
      else (result.outcome === 'failed' ? io.stderr : io.stdout).write(`${describe(result)}\n`);
      return result.outcome === 'finished' || result.outcome === 'waiting' ? ExitCode.OK : ExitCode.FAILURE;
    } finally {
      await chosen?.close?.();
    }
  },
});
