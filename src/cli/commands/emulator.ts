import { DEFAULT_EMULATOR_PORT } from '../../constants.ts';
import { startEmulator } from '../../emulator/start-emulator.ts';
import { PROJECT_ID } from '../../gcp/resource-names.ts';
import { openLocalStore } from '../../local-store/open-local-store.ts';
import { parseCommandArgs, parsePortArg } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';
import { cliStoreDir } from '../_store.ts';

/** Environment variable holding the Bearer token sent with every push (kept out of argv and `ps`). */
export const PUSH_TOKEN_ENV = 'KEYSHIFT_EMULATOR_PUSH_TOKEN';

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  store: { type: 'string' },
  project: { type: 'string' },
  'push-url': { type: 'string', multiple: true },
} as const;

function parsePort(text: string | undefined): number {
  return text === undefined ? DEFAULT_EMULATOR_PORT : parsePortArg(text, '--port');
}

function parsePushUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('--push-url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--push-url must be http or https');
  return url.href;
}

/**
 * `keyshift emulator`: serves the Secret Manager v1 gRPC API over the local store, in the
 * foreground, until SIGINT or SIGTERM. Point the official client at it with
 * `{ apiEndpoint: '127.0.0.1', port, sslCreds: grpc.credentials.createInsecure() }`.
 */
export const emulator = defineCommand({
  name: 'emulator',
  summary: 'serve the Google Secret Manager v1 gRPC API over the local store (for tests and local dev)',
  usage: `keyshift emulator [--port N] [--host ADDR] [--store DIR] [--project P] [--push-url URL]...\n  (push Bearer token: $${PUSH_TOKEN_ENV}; --port 0 picks a free port)`,
  async run(args, io) {
    const { values } = parseCommandArgs('emulator', args, OPTIONS, []);
    const port = parsePort(values.port);
    const urls = (values['push-url'] ?? []).map(parsePushUrl);
    const bearerToken = io.env[PUSH_TOKEN_ENV];
    if (values.project !== undefined && !PROJECT_ID.test(values.project)) throw new UsageError('--project must be a Google Cloud project id or number');
    const dir = cliStoreDir(values.store, io);
    const store = await openLocalStore({ dir, create: true, env: io.env });
    try {
      const started = await startEmulator({
        store,
        port,
        host: values.host,
        ...(values.project === undefined ? {} : { project: values.project }),
        push: urls.map((url) => ({ url, ...(bearerToken ? { bearerToken } : {}) })),
        onPushFailure: (f) =>
          io.stderr.write(`keyshift emulator: push to ${f.endpoint} failed after ${f.attempts} attempts${f.status ? ` (HTTP ${f.status})` : ''}\n`),
      });
      io.stdout.write(
        [
          `keyshift emulator: Secret Manager v1 on ${started.endpoint} (plaintext gRPC, no authentication)`,
          `  store: ${dir}`,
          `  project: ${values.project ?? 'any'}`,
          ...urls.map((url) => `  push: ${new URL(url).origin}${new URL(url).pathname}`),
          `  client: new SecretManagerServiceClient({ apiEndpoint: '${started.host}', port: ${started.port}, sslCreds: grpc.credentials.createInsecure() })`,
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        if (io.signal === undefined || io.signal.aborted) resolve();
        else io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await started.close();
      io.stdout.write('keyshift emulator: stopped\n');
    } finally {
      await store.close();
    }
    return ExitCode.OK;
  },
});
