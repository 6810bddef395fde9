import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeListener } from '../../adapters/node-http.ts';
import { createAdminHandler } from '../../admin/create-admin-handler.ts';
import type { AdminToken } from '../../http/token-auth.ts';
import { DEFAULT_ADMIN_PORT } from '../../constants.ts';
import { t } from '../../core/codecs/index.ts';
import { createKeyshift } from '../../core/create-keyshift.ts';
import type { Declaration } from '../../core/define-secrets.ts';
import { findViolation } from '../../core/policy.ts';
import type { Secret } from '../../core/redacted.ts';
import { openLocalStore } from '../../local-store/open-local-store.ts';
import { localStore } from '../../sources/local-store.ts';
import type { Logger } from '../../types.ts';
import { parseCommandArgs, parsePortArg } from '../_args.ts';
import { type CliIo, defineCommand, ExitCode } from '../_command.ts';
import { cliStoreDir } from '../_store.ts';

/** Environment variable holding the admin token (kept out of argv and `ps`). */
export const ADMIN_TOKEN_ENV = 'KEYSHIFT_ADMIN_TOKEN';
/** The store secret read for the token when the environment variable is unset. */
export const ADMIN_TOKEN_SECRET = 'ADMIN_API_TOKEN';

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  store: { type: 'string' },
  'base-path': { type: 'string', default: '/' },
} as const;

const ENTRY_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,254}$/;

function parsePort(text: string | undefined): number {
  return text === undefined ? DEFAULT_ADMIN_PORT : parsePortArg(text, '--port');
}

/** Every secret of the store whose latest version can be served, as a string entry; names the policy keeps static are declared static. */
async function declareStore(dir: string, io: CliIo): Promise<Declaration> {
  const store = await openLocalStore({ dir, create: false, env: io.env });
  try {
    const declaration: Declaration = {};
    for (const secret of await store.list()) {
      if (!ENTRY_NAME.test(secret.name)) {
        io.stderr.write(`keyshift serve: skipping ${secret.name}: not a valid entry name (it starts with a digit)\n`);
        continue;
      }
      if (secret.latest === undefined) continue;
      const latest = (await store.versions(secret.name)).find((v) => v.version === secret.latest);
      if (latest?.state !== 'enabled') {
        io.stderr.write(`keyshift serve: skipping ${secret.name}: its latest version ${secret.latest} is ${latest?.state ?? 'missing'}\n`);
        continue;
      }
      const isStatic = findViolation(secret.name, { static: false, category: 'other', rotation: undefined }) !== undefined;
      declaration[secret.name] = { type: t.string(), category: 'other', secret: true, ...(isStatic ? { static: true } : {}) };
    }
    return declaration;
  } finally {
    await store.close();
  }
}

/** Warnings, errors, alert lines and audit lines go to the command's stderr (info is dropped, as by the default logger). */
function stderrOf(io: CliIo): Logger {
  const line = (level: string) => (obj: Record<string, unknown>, msg: string) => void io.stderr.write(`keyshift ${level}: ${msg} ${JSON.stringify(obj)}\n`);
  return { info: () => {}, warn: line('warn'), error: line('error') };
}

function noTokenMessage(dir: string): string {
  return [
    'keyshift serve: no admin token, so the admin surface stays closed. Set one in the store:',
    `  TOKEN=$(node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")`,
    `  printf %s "$TOKEN" | keyshift put ${ADMIN_TOKEN_SECRET} --store ${dir}`,
    `or export ${ADMIN_TOKEN_ENV} (at least 16 characters) before starting keyshift serve.`,
    '',
  ].join('\n');
}

/**
 * `keyshift serve`: the admin surface and dashboard over the local store, in the
 * foreground until SIGINT or SIGTERM. Every secret of the store is a dynamic string
 * entry (its value never leaves the process); the token is $KEYSHIFT_ADMIN_TOKEN or
 * the store's ADMIN_API_TOKEN, re-read on every request so that it can rotate.
 */
export const serve = defineCommand({
  name: 'serve',
  summary: 'serve the admin API and the dashboard over the local store',
  usage: `keyshift serve [--port N] [--host ADDR] [--store DIR] [--base-path /]\n  (token: $${ADMIN_TOKEN_ENV}, else the store's ${ADMIN_TOKEN_SECRET}; --port 0 picks a free port)`,
  async run(args, io) {
    const { values } = parseCommandArgs('serve', args, OPTIONS, []);
    const port = parsePort(values.port);
    const dir = cliStoreDir(values.store, io);
    const declaration = await declareStore(dir, io);
    const fromEnv = io.env[ADMIN_TOKEN_ENV];
    if ((fromEnv === undefined || fromEnv === '') && declaration[ADMIN_TOKEN_SECRET] === undefined) {
      io.stderr.write(noTokenMessage(dir));
      return ExitCode.FAILURE;
    }
    const logger = stderrOf(io);
    const ks = createKeyshift(declaration, { source: localStore({ dir, create: false, env: io.env }), name: 'keyshift-serve', logger });
    try {
      await ks.ready();
      const read = ks as unknown as { get(name: string): Secret<string>; static: Record<string, Secret<string>> };
      const isStatic = declaration[ADMIN_TOKEN_SECRET]?.static === true;
      const token: AdminToken =
        fromEnv !== undefined && fromEnv !== '' ? fromEnv : isStatic ? read.static[ADMIN_TOKEN_SECRET] as Secret<string> : () => read.get(ADMIN_TOKEN_SECRET);
      const handler = await createAdminHandler({
        managers: ks,
        token,
        basePath: values['base-path'],
        alerts: { logger },
        auditLog: (record) => void io.stderr.write(`${JSON.stringify({ audit: 'keyshift-admin', ...record })}\n`),
      });
      const server = createServer(toNodeListener(handler));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, values.host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const base = `http://${host}:${address.port}${handler.basePath}`;
      io.stdout.write(
        [
          `keyshift serve: ${Object.keys(declaration).length} entries from ${dir}`,
          `  dashboard: ${base}admin/dashboard`,
          `  status:    ${base}admin/status   metrics: ${base}metrics`,
          `  token:     ${fromEnv ? `$${ADMIN_TOKEN_ENV}` : `the store's ${ADMIN_TOKEN_SECRET}`} (send Authorization: Bearer <token>)`,
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        if (io.signal === undefined || io.signal.aborted) resolve();
        else io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
      io.stdout.write('keyshift serve: stopped\n');
    } finally {
      await ks.close();
    }
    return ExitCode.OK;
  },
});
