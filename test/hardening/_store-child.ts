// Plan 12's other processes on one local store: a writer that reports when each put
// returned, and a checker that parses every secret file in a loop. Prints JSON lines;
// the master key comes from KEYSHIFT_MASTER_KEY. Never prints a value.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openLocalStore } from '../../src/local-store/index.ts';

const [command, dir = '', name = '', count = '0', tag = ''] = process.argv.slice(2);
const print = (message: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(message)}\n`);
const sharedNow = (): number => performance.timeOrigin + performance.now();

async function puts(): Promise<void> {
  const store = await openLocalStore({ dir });
  const done: Array<[number, number]> = [];
  for (let i = 0; i < Number(count); i++) done.push([(await store.put(name, `fake-${tag}-${i}`)).version, sharedNow()]);
  await store.close();
  print({ done });
}

/** Until stdin ends: every secret file (temp files aside) must parse, and the latest version must open. */
async function check(): Promise<void> {
  let running = true;
  process.stdin.on('end', () => {
    running = false;
  });
  process.stdin.resume();
  const store = await openLocalStore({ dir });
  const secrets = join(dir, 'secrets');
  let checks = 0;
  const corrupt: string[] = [];
  while (running) {
    for (const file of await readdir(secrets).catch(() => [] as string[])) {
      if (!file.endsWith('.json') || file.startsWith('.')) continue;
      try {
        // a header line, then the secret line: both complete JSON objects
        const text = await readFile(join(secrets, file), 'utf8');
        const newline = text.indexOf('\n');
        JSON.parse(text.slice(0, newline));
        JSON.parse(text.slice(newline + 1));
      } catch (error) {
        // a rename may remove the file between readdir and readFile: that is not a torn file
        if ((error as { code?: string }).code !== 'ENOENT') corrupt.push(`${file}: ${(error as Error).name}`);
      }
    }
    const info = await store.getSecret(name).catch(() => undefined);
    if (info?.latest !== undefined) await store.access(name, info.latest).catch((error: Error) => corrupt.push(`access: ${error.name}`));
    checks++;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await store.close();
  print({ checks, corrupt });
}

if (command === 'puts') await puts();
else if (command === 'check') await check();
else throw new Error(`unknown command ${command}`);
