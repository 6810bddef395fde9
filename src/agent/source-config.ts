import { isAbsolute, resolve } from 'node:path';
import { configError, isRecord, onlyFields, optionalString } from './_checks.ts';

/** Where the agent reads values: one of keyshift's sources. */
export type AgentSourceConfig =
  | { kind: 'local-store'; dir: string }
  | { kind: 'env'; prefix: string }
  | { kind: 'file'; dir: string }
  | { kind: 'gcp-secret-manager'; project?: string; apiEndpoint?: string; subscription?: string }
  | { kind: 'aws-secrets-manager'; region?: string; endpoint?: string };

const FIELDS: Record<AgentSourceConfig['kind'], readonly string[]> = {
  'local-store': ['kind', 'dir'],
  env: ['kind', 'prefix'],
  file: ['kind', 'dir'],
  'gcp-secret-manager': ['kind', 'project', 'apiEndpoint', 'subscription'],
  'aws-secrets-manager': ['kind', 'region', 'endpoint'],
};

function pathIn(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** Parses the declaration file's `source` object; relative directories resolve against `baseDir`. */
export function parseSourceConfig(value: unknown, baseDir: string): AgentSourceConfig {
  if (!isRecord(value)) throw configError('source', `must be an object with a kind (${Object.keys(FIELDS).join(', ')})`);
  const kind = value.kind;
  if (typeof kind !== 'string' || !(kind in FIELDS)) {
    throw configError('source', `unknown kind (one of ${Object.keys(FIELDS).join(', ')})`);
  }
  onlyFields('source', value, FIELDS[kind as AgentSourceConfig['kind']]);
  const text = (field: string) => optionalString('source', value, field);
  const need = (field: string): string => {
    const v = text(field);
    if (v === undefined) throw configError('source', `a ${kind} source needs ${field}`);
    return v;
  };
  switch (kind as AgentSourceConfig['kind']) {
    case 'local-store':
      return { kind: 'local-store', dir: pathIn(baseDir, need('dir')) };
    case 'file':
      return { kind: 'file', dir: pathIn(baseDir, need('dir')) };
    case 'env':
      return { kind: 'env', prefix: typeof value.prefix === 'string' ? value.prefix : '' };
    case 'gcp-secret-manager': {
      const [project, apiEndpoint, subscription] = [text('project'), text('apiEndpoint'), text('subscription')];
      return { kind: 'gcp-secret-manager', ...(project ? { project } : {}), ...(apiEndpoint ? { apiEndpoint } : {}), ...(subscription ? { subscription } : {}) };
    }
    case 'aws-secrets-manager': {
      const [region, endpoint] = [text('region'), text('endpoint')];
      return { kind: 'aws-secrets-manager', ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
    }
  }
}

/**
 * A source given by flag (`--source`), which wins over the file's: `local-store:DIR`,
 * `file:DIR`, `env:PREFIX` (or `env`), `gcp:PROJECT`, `aws:REGION`. Paths resolve against `cwd`.
 */
export function parseSourceFlag(spec: string, cwd: string): AgentSourceConfig {
  const colon = spec.indexOf(':');
  const scheme = colon === -1 ? spec : spec.slice(0, colon);
  const rest = colon === -1 ? '' : spec.slice(colon + 1);
  switch (scheme) {
    case 'local-store':
    case 'file':
      if (rest === '') throw configError('--source', `${scheme}: needs a directory (${scheme}:DIR)`);
      return { kind: scheme, dir: pathIn(cwd, rest) };
    case 'env':
      return { kind: 'env', prefix: rest };
    case 'gcp':
      return { kind: 'gcp-secret-manager', ...(rest ? { project: rest } : {}) };
    case 'aws':
      return { kind: 'aws-secrets-manager', ...(rest ? { region: rest } : {}) };
    default:
      throw configError('--source', 'must be local-store:DIR, file:DIR, env[:PREFIX], gcp[:PROJECT] or aws[:REGION]');
  }
}
