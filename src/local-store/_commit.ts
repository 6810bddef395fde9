import { mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, stageFile } from './_atomic-write.ts';
import { fsError } from './_fs-errors.ts';
import { type Head, headPath, nextHead } from './_head.ts';
import type { StoreEvent } from './types.ts';

/**
 * Commits one change to a secret file (new content, or null to remove it) and appends its
 * events to the head, under the store lock. Both files are written and fsynced first (in
 * parallel), then renamed in order, data before head, so a watcher that sees an event
 * finds the data; then both directories are fsynced. A crash leaves each file whole,
 * old or new.
 */
export async function commitChange(
  dir: string,
  path: string,
  content: string | null,
  head: Head,
  events: readonly StoreEvent[],
): Promise<void> {
  const secretsDir = dirname(path);
  if (content !== null) {
    await mkdir(secretsDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw fsError(error, 'creating', secretsDir);
    });
  }
  const staged = await Promise.allSettled([
    content === null ? Promise.resolve(undefined) : stageFile(path, content),
    stageFile(headPath(dir), nextHead(head, events)),
  ]);
  const [secretFile, headFile] = staged.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
  const failure = staged.find((result) => result.status === 'rejected');
  if (failure !== undefined || headFile === undefined) {
    await Promise.all([secretFile?.discard(), headFile?.discard()]);
    throw failure?.reason;
  }
  try {
    if (secretFile !== undefined) await secretFile.commit();
    else await unlink(path).catch((error: unknown) => Promise.reject(fsError(error, 'removing', path)));
  } catch (error) {
    await headFile.discard();
    throw error;
  }
  await headFile.commit();
  await Promise.all([fsyncDir(secretsDir), fsyncDir(dir)]);
}
