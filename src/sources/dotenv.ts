import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Source } from '../types.ts';
import { contentVersion } from './_content-version.ts';
import { checkSourceOptions } from './_check-source-options.ts';

export interface DotenvSourceOptions {
  /** The file. Default `.env` in the working directory. */
  path?: string;
  /** Prefix added to every name (APP_ with name FOO reads APP_FOO). Default ''. */
  prefix?: string;
  /** Watch the file and refresh the entries when it changes. Default true. */
  watch?: boolean;
}

/**
 * A `.env` file, parsed with Node's own parser (`util.parseEnv`, the one behind
 * `node --env-file`): for local development, never for production secrets. The file is
 * read at each fetch and never copied into `process.env`; a missing file or variable is
 * "not found" (so an optional entry reads null and a fallback chain moves on). Watched:
 * an edit is served without a restart. The version is a hash of the content.
 */
export function dotenv(options: DotenvSourceOptions = {}): Source {
  checkSourceOptions('dotenv()', options, { path: 'string', prefix: 'string', watch: 'boolean' });
  const path = resolve(options.path ?? '.env');
  const prefix = options.prefix ?? '';

  async function load(): Promise<Record<string, string> | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code === 'EACCES' || code === 'EPERM') throw new KeyshiftError(ErrorCodes.SOURCE_DENIED, `dotenv: no permission to read ${path}`, { details: { path } });
      throw new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `dotenv: cannot read ${path} (${code ?? 'error'})`, { details: { path } });
    }
    return parseEnv(text) as Record<string, string>;
  }

  return {
    kind: 'dotenv',
    locate: (name) => `variable ${prefix}${name} of ${path}`,
    async get(name) {
      const value = (await load())?.[prefix + name];
      return value === undefined ? undefined : { value, version: contentVersion(value) };
    },
    async getMany(names) {
      const vars = await load();
      const out = new Map<string, { value: string; version: string } | undefined>();
      for (const name of names) {
        const value = vars?.[prefix + name];
        out.set(name, value === undefined ? undefined : { value, version: contentVersion(value) });
      }
      return out;
    },
    ...(options.watch === false
      ? {}
      : {
          watch(onChange: (names?: readonly string[]) => void): () => void {
            // the directory, not the file: editors replace the file (rename), which a watch on it misses
            let watcher: FSWatcher | undefined;
            let pending: ReturnType<typeof setTimeout> | undefined;
            try {
              watcher = fsWatch(dirname(path), { persistent: false }, (_event, file) => {
                if (file !== null && file !== basename(path)) return;
                if (pending !== undefined) return;
                pending = setTimeout(() => {
                  pending = undefined;
                  onChange();
                }, 25);
                pending.unref();
              });
              watcher.on('error', () => watcher?.close());
            } catch {
              // no directory: nothing to watch; TTL refreshes still read the file
            }
            return () => {
              watcher?.close();
              if (pending !== undefined) clearTimeout(pending);
            };
          },
        }),
  };
}
