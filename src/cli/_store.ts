/**
 * The store a command acts on, from `--store`: `gcp://PROJECT` (Google Secret Manager),
 * `aws://REGION` (AWS Secrets Manager), or a local store directory (the default:
 * $KEYSHIFT_STORE_DIR, else .keyshift/store). One adapter per store, each in its own
 * file, all over the same operations (the local store's shapes).
 */
import { resolve } from 'node:path';
import { DEFAULT_LOCAL_STORE_DIR } from '../constants.ts';
import type { CliIo } from './_command.ts';
import type { CliStore } from './_cli-store.ts';
import { UsageError } from './_errors.ts';

export type { CliStore, StoreKind } from './_cli-store.ts';

export type StoreSpec =
  | { kind: 'local'; dir: string }
  | { kind: 'gcp'; project: string; endpoint: string | undefined }
  | { kind: 'aws'; region: string; endpoint: string | undefined };

/** The store directory of a command: --store, else $KEYSHIFT_STORE_DIR, else .keyshift/store. */
export function cliStoreDir(store: string | undefined, io: CliIo): string {
  const fromEnv = io.env.KEYSHIFT_STORE_DIR;
  return resolve(io.cwd, store ?? (fromEnv === undefined || fromEnv === '' ? DEFAULT_LOCAL_STORE_DIR : fromEnv));
}

const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[0-9]{1,20}$|^[a-z0-9.-]+:[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$/;

/**
 * Reads `--store` (and `--endpoint`). A Secret Manager endpoint comes from --endpoint or
 * $SECRET_MANAGER_EMULATOR_HOST (host:port, plaintext, no credentials: an emulator); an
 * AWS endpoint from --endpoint, $AWS_ENDPOINT_URL_SECRETS_MANAGER or $AWS_ENDPOINT_URL.
 */
export function parseStoreSpec(store: string | undefined, endpoint: string | undefined, io: CliIo): StoreSpec {
  const url = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(store ?? ''); // any URL: a scheme other than gcp or aws is refused, never taken for a directory
  if (url === null) {
    if (endpoint !== undefined) throw new UsageError('--endpoint is for gcp:// and aws:// stores');
    return { kind: 'local', dir: cliStoreDir(store, io) };
  }
  const [, scheme, rest = ''] = url;
  const env = (name: string): string | undefined => (io.env[name] === '' ? undefined : io.env[name]);
  if (scheme === 'gcp') {
    if (!PROJECT.test(rest)) throw new UsageError('--store gcp://PROJECT needs a Google Cloud project id (or number), e.g. gcp://pgp-prod');
    return { kind: 'gcp', project: rest, endpoint: endpoint ?? env('SECRET_MANAGER_EMULATOR_HOST') };
  }
  if (scheme === 'aws') {
    if (!REGION.test(rest)) throw new UsageError('--store aws://REGION needs an AWS region, e.g. aws://eu-west-1');
    return { kind: 'aws', region: rest, endpoint: endpoint ?? env('AWS_ENDPOINT_URL_SECRETS_MANAGER') ?? env('AWS_ENDPOINT_URL') };
  }
  throw new UsageError('--store takes a directory, gcp://PROJECT or aws://REGION');
}

/** Opens the store `spec` names. Local read commands pass `create: false` (a mistyped --store exits 3). */
export async function openCliStore(spec: StoreSpec, io: CliIo, create: boolean): Promise<CliStore> {
  switch (spec.kind) {
    case 'gcp':
      return (await import('./_store-gcp.ts')).openGcpCliStore(spec.project, spec.endpoint);
    case 'aws':
      return (await import('./_store-aws.ts')).openAwsCliStore(spec.region, spec.endpoint, io);
    default:
      return (await import('./_store-local.ts')).openLocalCliStore(spec.dir, io, create);
  }
}

/** Opens the command's store, runs `fn`, closes it. */
export async function withCliStore<T>(
  values: { store?: string | undefined; endpoint?: string | undefined },
  io: CliIo,
  create: boolean,
  fn: (store: CliStore) => Promise<T>,
): Promise<T> {
  const opened = await openCliStore(parseStoreSpec(values.store, values.endpoint, io), io, create);
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}
