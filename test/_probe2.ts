import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMasterKey } from '../src/local-store/index.ts';
import { runInProcess } from './cli/_run.ts';
import { makeCanary, hits } from './hardening/_canary.ts';
const C = makeCanary('z');
const V = C.value;
const dir = await mkdtemp(join(tmpdir(), 'ks-probe-'));
const env = { PATH: process.env.PATH, HOME: process.env.HOME, KEYSHIFT_MASTER_KEY: generateMasterKey() };
const store = join(dir, 'store');
const inv = join(dir, 'inv.json');
await writeFile(inv, `{"entries": {"${V}": 1, "API_KEY": {"type": "${V}"}}}`);
const cfg = join(dir, 'agent.json');
await writeFile(cfg, `{"entries": {"API_KEY": {"type": "string", "category": "${V}"}}, "files": {"dir": "${V}"}, "api": {"port": "${V}"}}`);
const runs: Array<[string[], string?]> = [
  [['put', 'API_KEY'], 'good-value-1'],
  [['put', 'API_KEY', V]],
  [['put', V], 'x'],
  [['put', 'API_KEY', `--value=${V}`]],
  [['put', 'API_KEY', '--json'], V],
  [['put', 'API_KEY', '--json'], `{"a":"${V}",}`],
  [['put', 'API_KEY', '--if-latest', V], 'x'],
  [['get', 'API_KEY', '--reveal', V]],
  [['get', 'API_KEY', `-${V}`]],
  [['versions', 'API_KEY', '--limit', V]],
  [['destroy', 'API_KEY', '--version', V]],
  [['enable', 'API_KEY', V]],
  [['rotate', V]],
  [['rotate', 'API_KEY', '--rotator', V]],
  [['rollout', V]],
  [['rollout', 'status', V]],
  [['inventory', inv]],
  [['inventory', '--inventory', inv]],
  [['doctor', V]],
  [['run', '--', 'node', '-e', '1', V]],
  [['agent', '--config', cfg]],
  [['agent', '--config', V]],
  [['serve', '--port', V]],
  [['fleet', V]],
  [['keyring-migrate', V]],
  [['verify-rotation', V]],
  [['init', V]],
  [['emulator', '--port', V]],
  [['list', '--prefix', V]],
];
for (const [argv, stdin] of runs) {
  const withStore = argv[0] === 'run' ? ['run', '--store', store, ...argv.slice(1)] : [...argv, '--store', store];
  const r = await runInProcess(withStore, { env, cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
  const text = `${r.stdout}\n${r.stderr}`;
  const h = hits(text, [C]);
  console.log(h ? 'LEAK' : 'ok  ', r.code, argv.map((a) => a.replace(V, 'V')).join(' '), h ? JSON.stringify(text.replaceAll(V, '<V>').slice(0, 300)) : '');
}
await rm(dir, { recursive: true, force: true });
