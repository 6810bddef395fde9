import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type StagedFile, TEMP_PREFIX, fsyncDir, stageFile } from './_atomic-write.ts';
import { errnoCode, fsError } from './_fs-errors.ts';
import { headPath } from './_head.ts';

/** One change to the store's files, decided under the store lock. */
export interface FileChange {
  /** Files to replace whole, in this order (version files before the metadata). */
  writes: Array<{ path: string; content: string }>;
  /** Files to remove once the writes are in place (a 0.1.0 file moved to the new layout). */
  removes: string[];
  /** A secret's directory to remove: renamed aside first, so it goes in one step. */
  removeDir?: string;
}

async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((error: unknown) => {
    if (errnoCode(error) !== 'ENOENT') throw fsError(error, 'removing', path);
  });
}

/** Renames `path` to a temp name beside it (skipped by readers); resolves that name, or undefined when it was not there. */
async function renameAside(path: string): Promise<string | undefined> {
  const aside = join(dirname(path), `${TEMP_PREFIX}deleted-${randomBytes(6).toString('hex')}`);
  try {
    await rename(path, aside);
    return aside;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fsError(error, 'removing', path);
  }
}

/**
 * Commits one change and appends its events to the head (`headContent`), under the store
 * lock. Every new file is written and fsynced first (in parallel), then renamed in order,
 * data before head, so a watcher that sees an event finds the data; then the directories
 * are fsynced. A crash leaves each file whole, old or new; nothing is rewritten in place.
 */
export async function commitChange(dir: string, change: FileChange, headContent: string): Promise<void> {
  const folders = new Set(change.writes.map((write) => dirname(write.path)));
  for (const folder of folders) {
    await mkdir(folder, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw fsError(error, 'creating', folder);
    });
  }
  const staged = await Promise.allSettled([
    stageFile(headPath(dir), headContent),
    ...change.writes.map((write) => stageFile(write.path, write.content)),
  ]);
  const files = staged.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
  const failure = staged.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(files.map((file) => file?.discard()));
    throw failure.reason;
  }
  const [headFile, ...dataFiles] = files as StagedFile[];
  let removedDir: string | undefined;
  try {
    for (const [i, file] of dataFiles.entries()) {
      try {
        await file.commit();
      } catch (error) {
        await Promise.all(dataFiles.slice(i + 1).map((rest) => rest.discard()));
        throw error;
      }
    }
    for (const path of change.removes) await removeFile(path);
    if (change.removeDir !== undefined) removedDir = await renameAside(change.removeDir);
  } catch (error) {
    await headFile!.discard();
    throw error;
  }
  await headFile!.commit();
  const synced = new Set([dir, ...folders, ...change.removes.map(dirname)]);
  if (change.removeDir !== undefined) synced.add(dirname(change.removeDir));
  await Promise.all([...synced].map((folder) => fsyncDir(folder)));
  if (removedDir !== undefined) await rm(removedDir, { recursive: true, force: true }).catch(() => undefined);
}

