import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_MAX_VALUE_BYTES } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Source } from '../types.ts';
import { contentVersion } from './_content-version.ts';
import { checkSourceOptions } from './_check-source-options.ts';

export interface FileSourceOptions {
  /** The directory holding one file per entry (a Cloud Run or Kubernetes secret volume). */
  dir: string;
  /** Maps an entry name to its file name. Default: the name itself. */
  fileName?: (name: string) => string;
  /** Re-reads every served file this often, in case a watch event was missed (F15). Default 5,000 ms; 0 turns it off. */
  rescanMs?: number;
}

const CHUNK = 16 * 1024;

/** Reads at most maxBytes + 1 bytes: a 100 MB (or endless) file is refused without being buffered. */
async function readCapped(path: string, name: string, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      if (signal.aborted) throw new KeyshiftError(ErrorCodes.SOURCE_TIMEOUT, `file: read of ${name} aborted`, { entry: name });
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) {
        throw new KeyshiftError(ErrorCodes.VALUE_TOO_LARGE, `file: ${name} is over the ${maxBytes}-byte limit`, {
          entry: name,
          details: { maxBytes },
        });
      }
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

function fsError(error: unknown, name: string, path: string): KeyshiftError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  if (code === 'EACCES' || code === 'EPERM') {
    return new KeyshiftError(ErrorCodes.SOURCE_DENIED, `file: no permission to read ${path} (entry ${name})`, { entry: name });
  }
  if (error instanceof KeyshiftError) return error;
  return new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `file: cannot read ${path} (${code ?? 'error'})`, { entry: name });
}

/**
 * A directory of files, one per entry, as Cloud Run and Kubernetes mount secrets.
 * The directory itself is watched (Kubernetes swaps a `..data` symlink, which a
 * watch on the file misses, F15), any event means "re-read and compare", and a
 * periodic rescan catches what the watch missed. The version is a content hash.
 */
export function fileSource(options: FileSourceOptions): Source {
  checkSourceOptions('fileSource()', options, { dir: 'string', fileName: 'function', rescanMs: 'ms' });
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'fileSource() needs options.dir, the directory holding one file per entry');
  }
  const fileName = options.fileName ?? ((name: string) => name);
  /** Every name asked for, with the version served (null while the file is missing). */
  const served = new Map<string, string | null>();
  const rescanMs = options.rescanMs ?? 5_000;

  const source: Source = {
    kind: 'file',
    locate: (name) => join(options.dir, fileName(name)),
    async get(name, { signal, maxBytes }) {
      const path = join(options.dir, fileName(name));
      try {
        const value = await readCapped(path, name, maxBytes, signal);
        const version = contentVersion(value);
        served.set(name, version);
        return { value, version };
      } catch (error) {
        const mapped = fsError(error, name, path);
        if (mapped) throw mapped;
        served.set(name, null);
        return undefined;
      }
    },
    watch(onChange) {
      let watcher: FSWatcher | undefined;
      let pending: ReturnType<typeof setTimeout> | undefined;
      let closed = false;
      const rescan = async (): Promise<void> => {
        const changed: string[] = [];
        const signal = AbortSignal.timeout(5_000);
        for (const [name, version] of served) {
          let now: string | null;
          try {
            now = contentVersion(await readCapped(join(options.dir, fileName(name)), name, DEFAULT_MAX_VALUE_BYTES, signal));
          } catch (error) {
            // missing: compare as null; unreadable: let the core fetch it and report why
            const code = (error as NodeJS.ErrnoException).code;
            now = code === 'ENOENT' ? null : `error:${code}`;
          }
          if (now !== version) changed.push(name);
        }
        if (!closed && changed.length > 0) onChange(changed);
      };
      const soon = (): void => {
        if (pending !== undefined) return;
        pending = setTimeout(() => {
          pending = undefined;
          rescan().catch(() => onChange());
        }, 25);
        pending.unref();
      };
      try {
        watcher = fsWatch(options.dir, { persistent: false }, soon);
        watcher.on('error', () => watcher?.close());
      } catch {
        // the directory may not exist yet: the periodic rescan still runs
      }
      const interval = rescanMs > 0 ? setInterval(soon, rescanMs) : undefined;
      interval?.unref();
      return () => {
        closed = true;
        watcher?.close();
        if (interval) clearInterval(interval);
        if (pending) clearTimeout(pending);
      };
    },
  };
  return source;
}
