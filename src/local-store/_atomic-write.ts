import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode, fsError } from './_fs-errors.ts';

/** Temporary files start with this prefix; readers skip them. */
export const TEMP_PREFIX = '.tmp-';

function tempPathFor(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
}

/** fsync a directory so a rename or unlink inside it survives a crash (F16). */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on a directory; the rename itself already happened.
    if (errnoCode(error) !== 'EINVAL' && errnoCode(error) !== 'EISDIR') throw fsError(error, 'syncing', dir);
  } finally {
    await handle?.close();
  }
}

/** Writes a new file (exclusively, mode 0600) and fsyncs it. */
async function writeTemp(tempPath: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(tempPath, 'wx', 0o600).catch((error: unknown) => {
    throw fsError(error, 'creating', tempPath);
  });
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw fsError(error, 'writing', tempPath);
  }
  await handle.close();
}

/** A complete, fsynced temp file waiting to be renamed over its target. */
export interface StagedFile {
  /** Renames the temp file over the target (atomic). The caller fsyncs the directory. */
  commit(): Promise<void>;
  /** Removes the temp file. */
  discard(): Promise<void>;
}

/** Writes `data` to a temp file beside `path` and fsyncs it, ready to commit. */
export async function stageFile(path: string, data: string | Uint8Array): Promise<StagedFile> {
  const tempPath = tempPathFor(path);
  await writeTemp(tempPath, data);
  const discard = (): Promise<void> => unlink(tempPath).catch(() => undefined);
  return {
    async commit() {
      try {
        await rename(tempPath, path);
      } catch (error) {
        await discard();
        throw fsError(error, 'replacing', path);
      }
    },
    discard,
  };
}

/** Crash-safe replace: temp file, fsync, rename over `path`, fsync the directory (F16). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const staged = await stageFile(path, data);
  await staged.commit();
  await fsyncDir(dirname(path));
}

/**
 * Crash-safe create that never replaces: temp file, fsync, link to `path` (fails when
 * `path` exists), fsync the directory. Resolves false when another process won the race.
 */
export async function createFileExclusive(path: string, data: string | Uint8Array): Promise<boolean> {
  const tempPath = tempPathFor(path);
  await writeTemp(tempPath, data);
  try {
    await link(tempPath, path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw fsError(error, 'creating', path);
  } finally {
    await unlink(tempPath).catch(() => undefined);
    await fsyncDir(dirname(path));
  }
}
