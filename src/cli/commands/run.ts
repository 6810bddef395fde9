import { parseArgs } from 'node:util';
import type { AgentConfig } from '../../agent/agent-config.ts';
import { ChildSupervisor } from '../../agent/child-supervisor.ts';
import { startAgent } from '../../agent/start-agent.ts';
import { AGENT_CONFIG_OPTIONS, agentConfigOf, agentLogger } from '../_agent-config.ts';
import { defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';

const OPTIONS = {
  ...AGENT_CONFIG_OPTIONS,
  'on-change': { type: 'string', default: 'restart' },
  dynamic: { type: 'boolean', default: false },
  'stop-grace-ms': { type: 'string', default: '10000' },
} as const;

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Entries put in the child's environment: those delivered to env that are static, and dynamic ones with --dynamic. */
function envEntries(config: AgentConfig, dynamic: boolean): Set<string> {
  const names = new Set<string>();
  for (const [name, ways] of config.deliver) {
    if (ways.has('env') && (dynamic || config.declaration[name]?.static === true)) names.add(name);
  }
  return names;
}

function parseOnChange(text: string): 'restart' | 'none' | NodeJS.Signals {
  if (text === 'restart' || text === 'none') return text;
  if (/^SIG[A-Z0-9]{2,8}$/.test(text)) return text as NodeJS.Signals;
  throw new UsageError('--on-change must be restart, none or a signal name such as SIGHUP');
}

/**
 * `keyshift run -- COMMAND`: starts COMMAND with entries in its environment, forwards
 * SIGTERM, SIGINT and SIGHUP to it, acts on a change of one of its entries (restart it,
 * signal it, or nothing), and exits with its exit code.
 */
export const run = defineCommand({
  name: 'run',
  summary: 'run a command with entries in its environment; restart it when one changes',
  usage:
    'keyshift run --config FILE [--source SPEC] [--dynamic] [--on-change restart|none|SIGNAL] [--stop-grace-ms N] -- COMMAND [ARGS...]\n' +
    '  static entries delivered to env are set; --dynamic adds the dynamic ones (and their changes act on the command)',
  async run(args, io) {
    const { values, positionals } = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...commandArgs] = positionals;
    if (command === undefined) throw new UsageError('give the command to run after --');
    const onChange = parseOnChange(values['on-change']);
    const grace = Number(values['stop-grace-ms']);
    if (!Number.isSafeInteger(grace) || grace < 0) throw new UsageError('--stop-grace-ms must be a non-negative integer');
    const config = await agentConfigOf(values, io);
    const logger = agentLogger(io, 'keyshift run');
    const agent = await startAgent({ config: { ...config, files: undefined, api: undefined }, env: io.env, logger });
    const names = envEntries(config, values.dynamic);
    const childEnv = (): NodeJS.ProcessEnv => {
      const out: NodeJS.ProcessEnv = { ...io.env };
      const snapshot = agent.view.current();
      for (const name of names) {
        const value = snapshot.entries.get(name)?.value;
        if (value === null || value === undefined) delete out[name];
        else out[name] = value;
      }
      return out;
    };
    const child = new ChildSupervisor({ command, args: commandArgs, env: childEnv, stopGraceMs: grace });
    let forwarded = false;
    const forward = (signal: NodeJS.Signals) => {
      forwarded = true;
      child.signal(signal);
    };
    for (const signal of FORWARDED) process.on(signal, forward);
    const onAbort = () =>
      setImmediate(() => {
        if (!forwarded) void child.stop('SIGTERM');
      });
    io.signal?.addEventListener('abort', onAbort, { once: true });
    const stopWatching = agent.view.onChange((_, changed) => {
      const mine = changed.filter((name) => names.has(name));
      if (mine.length === 0 || onChange === 'none') return;
      io.stderr.write(`keyshift run: ${mine.join(', ')} changed: ${onChange === 'restart' ? 'restarting' : `sending ${onChange} to`} the command\n`);
      if (onChange === 'restart') void child.restart();
      else child.signal(onChange);
    });
    try {
      child.start();
      return await child.exited;
    } finally {
      stopWatching();
      io.signal?.removeEventListener('abort', onAbort);
      for (const signal of FORWARDED) process.off(signal, forward);
      await agent.close();
    }
  },
});
