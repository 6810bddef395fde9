// Google's Pub/Sub emulator for the tests that need it. `.ci/run` starts one per test run
// and exports PUBSUB_EMULATOR_HOST; without that variable (`npm test` alone, or one file
// run by hand) this starts one for the file and stops it (and its java child) at the end.
// When the emulator is not installed the tests skip loudly; on CI (CI set) they fail.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface PubSubEmulator {
  /** `host:port`, for PUBSUB_EMULATOR_HOST. */
  host: string;
  /** Stops an emulator this helper started (by its process group id); no-op for a shared one. */
  stop(): Promise<void>;
}

const SDK_DIRS = ['/usr/lib/google-cloud-sdk/platform/pubsub-emulator', '/usr/share/google-cloud-sdk/platform/pubsub-emulator'];

/** Why the emulator cannot run here, or undefined when it can (a shared one counts unless `own`). */
export function pubsubEmulatorMissing(own = false): string | undefined {
  if (process.env.PUBSUB_EMULATOR_HOST && !own) return undefined;
  const gcloud = ['/usr/bin/gcloud', '/usr/local/bin/gcloud'].some((p) => existsSync(p));
  if (!gcloud) return 'gcloud is not installed (apt-get install google-cloud-cli-pubsub-emulator openjdk-17-jre-headless)';
  if (!SDK_DIRS.some((d) => existsSync(d))) return 'the Pub/Sub emulator is not installed (apt-get install google-cloud-cli-pubsub-emulator)';
  if (!['/usr/bin/java', '/usr/local/bin/java'].some((p) => existsSync(p))) return 'no Java runtime (apt-get install openjdk-17-jre-headless)';
  return undefined;
}

/** A `skip` value for node:test: false when the emulator can run; a loud reason otherwise (a failure on CI). */
export function skipWithoutPubSub(own = false): string | false {
  const missing = pubsubEmulatorMissing(own);
  if (missing === undefined) return false;
  if (process.env.CI) throw new Error(`CI must run the Pub/Sub tests, but ${missing}`);
  process.stderr.write(`\n!!! SKIPPING the Pub/Sub emulator tests: ${missing}\n\n`);
  return `Pub/Sub emulator missing: ${missing}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The shared emulator (PUBSUB_EMULATOR_HOST), or one started for this test file. */
export async function usePubSubEmulator(): Promise<PubSubEmulator> {
  const shared = process.env.PUBSUB_EMULATOR_HOST;
  if (shared) return { host: shared, stop: async () => {} };
  const own = await startPubSubEmulator();
  process.env.PUBSUB_EMULATOR_HOST = own.host;
  return {
    host: own.host,
    stop: async () => {
      delete process.env.PUBSUB_EMULATOR_HOST;
      await own.stop();
    },
  };
}

/**
 * An emulator of this test's own, never the shared one (a test that kills it mid-run).
 * Point clients at it with `{ apiEndpoint: host }`; PUBSUB_EMULATOR_HOST is left alone.
 * `stop()` ends its process group (gcloud and the java child): SIGTERM, then SIGKILL.
 */
export async function startPubSubEmulator(): Promise<PubSubEmulator> {
  const port = await freePort();
  // its own process group: stop() ends gcloud and the java child it spawns, by that group id
  const child = spawn('gcloud', ['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${port}`, '--quiet'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Pub/Sub emulator did not start in 90 s:\n${output.slice(-2000)}`)), 90_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(`Server started, listening on ${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Pub/Sub emulator exited (${code}):\n${output.slice(-2000)}`));
    });
  });
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  return { host: `127.0.0.1:${port}`, stop: () => stopGroup(child) };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }, 3_000);
  await exited;
  clearTimeout(timer);
  // the java child may outlive gcloud's python: end what is left of the group
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}

/** A name no other test (or run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
