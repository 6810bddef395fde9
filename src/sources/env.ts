import type { Source } from '../types.ts';
import { contentVersion } from './_content-version.ts';
import { checkSourceOptions } from './_check-source-options.ts';

export interface EnvSourceOptions {
  /** Variables to read. Default process.env (read at each get, so a test can change it). */
  env?: NodeJS.ProcessEnv;
  /** Prefix added to every name (PGP_ with name FOO reads PGP_FOO). Default ''. */
  prefix?: string;
}

/**
 * Environment variables. The weakest place for a secret (OWASP: they leak into logs
 * and dumps), and they never change in a running process: useful for local runs and
 * as the last link of a fallback chain. The version is a hash of the content.
 */
export function env(options: EnvSourceOptions = {}): Source {
  checkSourceOptions('env()', options, { env: 'object', prefix: 'string' });
  const prefix = options.prefix ?? '';
  return {
    kind: 'env',
    locate: (name) => `environment variable ${prefix}${name}`,
    async get(name) {
      const value = (options.env ?? process.env)[prefix + name];
      return value === undefined ? undefined : { value, version: contentVersion(value) };
    },
  };
}
