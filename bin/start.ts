/**
 * `npm start`: the keyshift demo on the PGP_v1 reference platform (examples/pgp/demo).
 *
 *   npm start                      run until Ctrl-C
 *   npm start -- --once            5 rotations and the canary, a summary, exit 1 if any check failed
 *   npm start -- --help            options
 */
import { parseArgs } from 'node:util';
import { formatSummary, runDemo } from '../examples/pgp/demo/run-demo.ts';

const USAGE = `usage: npm start -- [--once] [--rotations N] [--interval-ms MS] [--grace-ms MS] [--rate N] [--store DIR] [--admin-port PORT] [--canary-bake-ms MS] [--no-canary]

  --once            do N rotations (default 5) and the canary, print a summary, exit 1 if a check failed
  --rotations N     rotations with --once (default 5)
  --interval-ms MS  time between rotations (default 4000; 1500 with --once)
  --grace-ms MS     how long the ChangeNow stand-in still accepts the previous key (default 3000)
  --rate N          requests per second over all services (default 50)
  --store DIR       local store directory (default .keyshift/demo; a temporary one with --once)
  --admin-port PORT admin server port (default: any free port)
  --canary-bake-ms MS  bake time of the canary rollouts (default 6000)
  --no-canary       skip the canary (a good key rolled out in slices, a bad one halted)
`;

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,6}$/.test(text)) {
    process.stderr.write(`--${name} must be a positive integer\n${USAGE}`);
    process.exit(2);
  }
  return Number(text);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      rotations: { type: 'string' },
      'interval-ms': { type: 'string' },
      'grace-ms': { type: 'string' },
      rate: { type: 'string' },
      store: { type: 'string' },
      'admin-port': { type: 'string' },
      'canary-bake-ms': { type: 'string' },
      'no-canary': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
}
try {
  parsed = parse();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : 'bad arguments'}\n${USAGE}`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const stop = new AbortController();
process.once('SIGINT', () => {
  stop.abort();
  process.once('SIGINT', () => process.exit(130)); // a second Ctrl-C does not wait
});
process.once('SIGTERM', () => stop.abort());

const rotations = positiveInt('rotations', parsed.rotations);
const intervalMs = positiveInt('interval-ms', parsed['interval-ms']);
const graceMs = positiveInt('grace-ms', parsed['grace-ms']);
const ratePerSec = positiveInt('rate', parsed.rate);
const adminPort = positiveInt('admin-port', parsed['admin-port']);
const canaryBakeMs = positiveInt('canary-bake-ms', parsed['canary-bake-ms']);
const summary = await runDemo({
  once: parsed.once,
  signal: stop.signal,
  ...(rotations === undefined ? {} : { rotations }),
  ...(intervalMs === undefined ? {} : { intervalMs }),
  ...(graceMs === undefined ? {} : { graceMs }),
  ...(ratePerSec === undefined ? {} : { ratePerSec }),
  ...(adminPort === undefined ? {} : { adminPort }),
  ...(canaryBakeMs === undefined ? {} : { canaryBakeMs }),
  canary: !parsed['no-canary'],
  ...(parsed.store === undefined ? {} : { storeDir: parsed.store }),
});
process.stdout.write(formatSummary(summary));
process.exitCode = parsed.once && !summary.passed ? 1 : 0;
