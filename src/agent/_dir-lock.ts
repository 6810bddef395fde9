import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

/** The lock file inside a render directory. */
export const AGENT_LOCK_FILE = '.keyshift-agent.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holder(path: string): Promise<{ pid: number; host: string } | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; host?: unknown };
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? { pid: owner.pid, host: owner.host } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `DIR/.keyshift-agent.lock` (O_EXCL) so that two agents never render into one
 * directory. A lock whose owner is a dead process on this host is taken over; a live
 * owner (or one on another host sharing the volume) is a KS_ERR_AGENT_LOCKED naming it.
 * Resolves the release function.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, AGENT_LOCK_FILE);
  const me = JSON.stringify({ pid: process.pid, host: hostname() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(me);
      await handle.close();
      return async () => {
        if ((await readFile(path, 'utf8').catch(() => '')) === me) await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new KeyshiftError(ErrorCodes.RENDER_FAILED, `cannot create the agent lock in ${dir} (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`, { cause: error });
      }
      const owner = await holder(path);
      if (owner === undefined && Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0) < 2_000) {
        // an unreadable lock this young is one being written: its owner is starting
        throw new KeyshiftError(ErrorCodes.AGENT_LOCKED, `another keyshift agent is starting in ${dir}: give each agent its own directory`);
      }
      if (owner !== undefined && (owner.host !== hostname() || alive(owner.pid))) {
        throw new KeyshiftError(
          ErrorCodes.AGENT_LOCKED,
          `another keyshift agent (pid ${owner.pid} on ${owner.host}) renders into ${dir}: give each agent its own directory`,
          { details: { pid: owner.pid, host: owner.host } },
        );
      }
      await unlink(path).catch(() => undefined); // the owner is gone (or the file is unreadable): take over
    }
  }
  throw new KeyshiftError(ErrorCodes.AGENT_LOCKED, `could not take the agent lock in ${dir}: another agent keeps taking it`);
}
