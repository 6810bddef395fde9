import { isAbsolute, resolve } from 'node:path';
import { checkEntry, type Declaration, type EntryDeclaration } from '../core/define-secrets.ts';
import { DEFAULT_POLICY } from '../core/policy.ts';
import { configError, isRecord, onlyFields, optionalPort, optionalString } from './_checks.ts';
import { type AgentSourceConfig, parseSourceConfig } from './source-config.ts';
import { textCodec } from './text-codec.ts';

/** The three ways the agent hands a value over. */
export type Delivery = 'files' | 'api' | 'env';
const DELIVERIES: readonly Delivery[] = ['files', 'api', 'env'];

export interface FilesConfig {
  /** The directory the entries are rendered into (`DIR/NAME -> ..data/NAME`). */
  dir: string;
  /** Extra files rendered from several entries: file name → template with `{{NAME}}` placeholders. */
  templates: Readonly<Record<string, string>>;
  /** Run after each swap: argv, no shell. */
  notifyCommand?: readonly string[];
  /** POSTed after each swap: `{ "generation": N, "changed": [names] }` (no values). */
  notifyUrl?: string;
}

/** Where a surface listens: a Unix socket (mode 0600), or loopback (then with the token in $tokenEnv). */
export type ListenConfig = ({ socket: string } | { host: string; port: number }) & { tokenEnv: string };

export interface AgentConfig {
  /** The service name in logs, status and metrics. */
  name: string;
  /** The entries as a keyshift declaration (text codecs that validate with the declared type). */
  declaration: Declaration;
  /** Per entry, how it is handed over. */
  deliver: ReadonlyMap<string, ReadonlySet<Delivery>>;
  source: AgentSourceConfig | undefined;
  files: FilesConfig | undefined;
  /** The read API; on a socket it needs no token (the socket's mode is the access control). */
  api: ListenConfig | undefined;
  /** The admin surface (status, metrics, health, refresh): always with its token; may listen beyond loopback (a platform's probes). */
  admin: ListenConfig | undefined;
  /** The manager's tuning (KeyshiftOptions of the same names). */
  manager: ManagerTuning;
}

/** The KeyshiftOptions a declaration file may set, under `"manager"`. */
export interface ManagerTuning {
  fetchTimeoutMs?: number;
  startupTimeoutMs?: number;
  minRefreshIntervalMs?: number;
  maxValueBytes?: number;
}
const TUNING = ['fetchTimeoutMs', 'startupTimeoutMs', 'minRefreshIntervalMs', 'maxValueBytes'] as const;

function parseTuning(value: unknown): ManagerTuning {
  if (value === undefined) return {};
  if (!isRecord(value)) throw configError('manager', `must be an object of ${TUNING.join(', ')}`);
  onlyFields('manager', value, TUNING);
  const tuning: ManagerTuning = {};
  for (const field of TUNING) {
    const n = value[field];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw configError('manager', `${field} must be a non-negative number`);
    tuning[field] = n;
  }
  return tuning;
}

const TOP = ['name', 'source', 'entries', 'deliver', 'files', 'api', 'admin', 'manager'];
const ENTRY = ['type', 'static', 'category', 'key', 'ttlMs', 'maxStaleMs', 'onStale', 'optional', 'secret', 'rotation', 'description', 'deliver'];
const BOOLEANS = ['static', 'optional', 'secret'];
const TEMPLATE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

function parseDeliver(where: string, value: unknown, entry?: string): Set<Delivery> {
  if (!Array.isArray(value) || !value.every((d) => (DELIVERIES as unknown[]).includes(d))) {
    throw configError(where, `deliver must be a list of ${DELIVERIES.join(', ')}`, entry);
  }
  return new Set(value as Delivery[]);
}

function parseEntry(name: string, value: unknown): EntryDeclaration<unknown> {
  const where = `entry ${name}`;
  if (!isRecord(value)) throw configError(where, 'must be an object with at least a type', name);
  onlyFields(where, value, ENTRY, name);
  for (const field of BOOLEANS) {
    if (value[field] !== undefined && typeof value[field] !== 'boolean') throw configError(where, `${field} must be true or false`, name);
  }
  const { deliver: _deliver, type, ...rest } = value;
  const entry = { ...rest, type: textCodec(name, type) } as EntryDeclaration<unknown>;
  checkEntry(name, entry, DEFAULT_POLICY); // the rules of defineSecrets, policy included
  return entry;
}

function parseFiles(value: unknown, baseDir: string, entries: Declaration): FilesConfig {
  if (!isRecord(value)) throw configError('files', 'must be an object with a dir');
  onlyFields('files', value, ['dir', 'templates', 'notify']);
  const dir = optionalString('files', value, 'dir');
  if (dir === undefined) throw configError('files', 'needs dir');
  const templates: Record<string, string> = {};
  if (value.templates !== undefined) {
    if (!isRecord(value.templates)) throw configError('files', 'templates must be an object of file name → template');
    for (const [file, text] of Object.entries(value.templates)) {
      if (!TEMPLATE_NAME.test(file) || file in entries) throw configError('files', 'a template name must be a plain file name that is not an entry name');
      if (typeof text !== 'string') throw configError('files', 'a template must be a string');
      for (const [, ref] of text.matchAll(/\{\{\s*([^}\s]*)\s*\}\}/g)) {
        if (ref === undefined || !(ref in entries)) throw configError(`files.templates.${file}`, 'refers to an entry that is not declared');
      }
      templates[file] = text;
    }
  }
  const files: FilesConfig = { dir: isAbsolute(dir) ? dir : resolve(baseDir, dir), templates };
  if (value.notify !== undefined) {
    if (!isRecord(value.notify)) throw configError('files.notify', 'must be an object with command and/or url');
    onlyFields('files.notify', value.notify, ['command', 'url']);
    const { command, url } = value.notify;
    if (command !== undefined && !(Array.isArray(command) && command.length > 0 && command.every((c) => typeof c === 'string'))) {
      throw configError('files.notify', 'command must be a non-empty list of strings (argv, no shell)');
    }
    if (url !== undefined && (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))) {
      throw configError('files.notify', 'url must be an http(s) URL');
    }
    if (command) files.notifyCommand = command as string[];
    if (url) files.notifyUrl = url as string;
  }
  return files;
}

function parseListen(where: string, value: unknown, baseDir: string, defaultTokenEnv: string, loopbackOnly: boolean): ListenConfig {
  if (!isRecord(value)) throw configError(where, 'must be an object with socket, or host and port');
  onlyFields(where, value, ['socket', 'host', 'port', 'tokenEnv']);
  const socket = optionalString(where, value, 'socket');
  const port = optionalPort(where, value, 'port');
  if ((socket === undefined) === (port === undefined)) throw configError(where, 'give either socket or port');
  const tokenEnv = optionalString(where, value, 'tokenEnv') ?? defaultTokenEnv;
  if (socket !== undefined) return { socket: isAbsolute(socket) ? socket : resolve(baseDir, socket), tokenEnv };
  const host = optionalString(where, value, 'host') ?? '127.0.0.1';
  if (loopbackOnly && !['127.0.0.1', '::1', 'localhost'].includes(host)) throw configError(where, 'host must be loopback (127.0.0.1, ::1, localhost): it hands out values');
  return { host, port: port as number, tokenEnv };
}

/** Checks a parsed declaration file; throws a KeyshiftError naming the entry or section at fault. */
export function parseAgentConfig(json: unknown, baseDir: string): AgentConfig {
  if (!isRecord(json)) throw configError('the file', 'must hold a JSON object');
  onlyFields('the file', json, TOP);
  if (!isRecord(json.entries) || Object.keys(json.entries).length === 0) throw configError('entries', 'must be an object with at least one entry');
  const declaration: Declaration = {};
  for (const [name, value] of Object.entries(json.entries)) declaration[name] = parseEntry(name, value);
  const all = json.deliver === undefined ? new Set(DELIVERIES) : parseDeliver('deliver', json.deliver);
  const deliver = new Map<string, ReadonlySet<Delivery>>();
  for (const [name, value] of Object.entries(json.entries)) {
    const own = (value as Record<string, unknown>).deliver;
    deliver.set(name, own === undefined ? all : parseDeliver(`entry ${name}`, own, name));
  }
  const files = json.files === undefined ? undefined : parseFiles(json.files, baseDir, declaration);
  const api = json.api === undefined ? undefined : parseListen('api', json.api, baseDir, 'KEYSHIFT_AGENT_TOKEN', true);
  const admin = json.admin === undefined ? undefined : parseListen('admin', json.admin, baseDir, 'KEYSHIFT_ADMIN_TOKEN', false);
  const name = optionalString('the file', json, 'name') ?? 'keyshift-agent';
  return {
    name,
    declaration,
    deliver,
    source: json.source === undefined ? undefined : parseSourceConfig(json.source, baseDir),
    files,
    api,
    admin,
    manager: parseTuning(json.manager),
  };
}
