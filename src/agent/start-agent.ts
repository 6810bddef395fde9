import { toNodeListener } from '../adapters/node-http.ts';
import { createAdminHandler } from '../admin/create-admin-handler.ts';
import { createKeyshift, type Keyshift } from '../core/create-keyshift.ts';
import type { Declaration } from '../core/define-secrets.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Clock, Logger, Source } from '../types.ts';
import type { AgentConfig } from './agent-config.ts';
import type { AgentEvent } from './agent-event.ts';
import { AgentView } from './agent-view.ts';
import { createChangeNotifier } from './change-notifier.ts';
import { createAgentSource } from './create-agent-source.ts';
import { FileRenderer, type RenderFs } from './file-renderer.ts';
import { type Listening, listen } from './listen.ts';
import { createReadApi } from './read-api.ts';
import { RenderLoop } from './render-loop.ts';

export type { AgentEvent } from './agent-event.ts';

export interface StartAgentOptions {
  config: AgentConfig;
  /** A source to use instead of the config's (tests, embedding). */
  source?: Source;
  /** Where tokens ($KEYSHIFT_AGENT_TOKEN, $KEYSHIFT_ADMIN_TOKEN) and the local store's master key are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: warnings and errors on stderr. */
  logger?: Logger;
  /** Told about every render and every failure. */
  onEvent?: (event: AgentEvent) => void;
  /** The renderer's file-system calls (tests inject a full disk). */
  renderFs?: RenderFs;
  /** The manager's time source (tests give a fake clock). Default the system clock. */
  clock?: Clock;
}

export interface RunningAgent {
  readonly ks: Keyshift<Declaration>;
  readonly view: AgentView;
  /** The read API's address (`unix:/path` or `http://...`), when configured. */
  readonly apiAddress: string | undefined;
  readonly adminAddress: string | undefined;
  /** Stops serving and refreshing; the rendered files stay in place. */
  close(): Promise<void>;
}

const stderrLogger: Logger = {
  info: () => {},
  warn: (obj, msg) => void process.stderr.write(`keyshift agent warn: ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => void process.stderr.write(`keyshift agent error: ${msg} ${JSON.stringify(obj)}\n`),
};

function namesFor(config: AgentConfig, delivery: 'files' | 'api'): string[] {
  return [...config.deliver].filter(([, ways]) => ways.has(delivery)).map(([name]) => name);
}

function tokenFrom(env: NodeJS.ProcessEnv, variable: string, surface: string): string {
  const token = env[variable];
  if (token === undefined || token.length < 16) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `the ${surface} on a TCP port needs a token of at least 16 characters in $${variable}`);
  }
  return token;
}

/**
 * Runs a keyshift manager for a process in any language: loads every entry (the same
 * validation, policy and last-known-good as in Node), then hands values over as files
 * swapped atomically, on a local read API, or both; serves the admin surface if asked.
 * Refuses to start (rejects) on a lock held by another agent, an unwritable directory
 * or a failed ready(); after that, a failure is an event and the working files stay.
 */
export async function startAgent(options: StartAgentOptions): Promise<RunningAgent> {
  const { config } = options;
  const env = options.env ?? process.env;
  const logger = options.logger ?? stderrLogger;
  const emit = options.onEvent ?? (() => {});
  const cleanups: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  };
  try {
    let source = options.source;
    if (source === undefined) {
      if (config.source === undefined) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'agent declaration: no source (give "source" in the file, or --source)');
      const made = await createAgentSource(config.source, env);
      cleanups.push(() => made.close());
      source = made.source;
    }
    const files = config.files;
    const fileEntries = namesFor(config, 'files');
    const renderer = files ? await FileRenderer.open({ dir: files.dir, entries: fileEntries, templates: files.templates, ...(options.renderFs ? { fs: options.renderFs } : {}) }) : undefined;
    if (renderer) cleanups.push(() => renderer.close());
    const ks = createKeyshift(config.declaration, { ...config.manager, source, name: config.name, logger, ...(options.clock ? { clock: options.clock } : {}) });
    cleanups.push(() => ks.close());
    await ks.ready();
    const view = new AgentView(ks);
    cleanups.push(() => view.close());
    if (renderer && files) {
      const notify = createChangeNotifier({ ...(files.notifyCommand ? { command: files.notifyCommand } : {}), ...(files.notifyUrl ? { url: files.notifyUrl } : {}) });
      const loop = new RenderLoop(renderer, view, { logger, emit, notify, watched: new Set([...fileEntries, ...templateRefs(files.templates)]) });
      await loop.start();
      cleanups.push(() => loop.close());
    }
    let api: Listening | undefined;
    if (config.api) {
      const readApi = createReadApi(view, { entries: namesFor(config, 'api'), logger, ...('port' in config.api ? { token: tokenFrom(env, config.api.tokenEnv, 'read API') } : {}) });
      cleanups.push(() => readApi.close());
      api = await listen(config.api, readApi.listener);
      cleanups.push(() => api?.close());
    }
    let admin: Listening | undefined;
    if (config.admin) {
      const handler = await createAdminHandler({ managers: ks, token: tokenFrom(env, config.admin.tokenEnv, 'admin surface'), alerts: { logger } });
      cleanups.push(() => handler.close());
      admin = await listen(config.admin, toNodeListener(handler));
      cleanups.push(() => admin?.close());
    }
    return { ks, view, apiAddress: api?.address, adminAddress: admin?.address, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function templateRefs(templates: Readonly<Record<string, string>>): string[] {
  return Object.values(templates).flatMap((text) => [...text.matchAll(/\{\{\s*([^}\s]*)\s*\}\}/g)].map((m) => m[1] as string));
}
