import { resolve } from 'node:path';
import type { AgentConfig } from '../../agent/agent-config.ts';
import { startAgent } from '../../agent/start-agent.ts';
import { AGENT_CONFIG_OPTIONS, agentConfigOf, agentLogger, untilAborted } from '../_agent-config.ts';
import { parseCommandArgs, parsePortArg } from '../_args.ts';
import { defineCommand, ExitCode } from '../_command.ts';
import { UsageError } from '../_errors.ts';

const OPTIONS = {
  ...AGENT_CONFIG_OPTIONS,
  files: { type: 'string' },
  socket: { type: 'string' },
  'admin-port': { type: 'string' },
  'admin-socket': { type: 'string' },
} as const;

function withFlags(config: AgentConfig, values: { files?: string; socket?: string; 'admin-port'?: string; 'admin-socket'?: string }, cwd: string): AgentConfig {
  const next = { ...config };
  if (values['admin-port'] !== undefined && values['admin-socket'] !== undefined) throw new UsageError('give --admin-port or --admin-socket, not both');
  if (values.files !== undefined) next.files = { ...(config.files ?? { templates: {} }), dir: resolve(cwd, values.files) };
  if (values.socket !== undefined) next.api = { socket: resolve(cwd, values.socket), tokenEnv: 'KEYSHIFT_AGENT_TOKEN' };
  if (values['admin-port'] !== undefined) {
    next.admin = { host: '127.0.0.1', port: parsePortArg(values['admin-port'], '--admin-port'), tokenEnv: config.admin?.tokenEnv ?? 'KEYSHIFT_ADMIN_TOKEN' };
  }
  if (values['admin-socket'] !== undefined) next.admin = { socket: resolve(cwd, values['admin-socket']), tokenEnv: config.admin?.tokenEnv ?? 'KEYSHIFT_ADMIN_TOKEN' };
  if (next.files === undefined && next.api === undefined) throw new UsageError('nothing to hand values over with: give files and/or api in the declaration, or --files DIR / --socket PATH');
  return next;
}

/**
 * `keyshift agent`: the manager beside a process in any language. Values are rendered
 * into files swapped atomically and/or served on a local read API; the admin surface is
 * served when asked. Runs in the foreground until SIGINT or SIGTERM.
 */
export const agent = defineCommand({
  name: 'agent',
  summary: 'run the manager beside a process in any language: files, a local read API, admin',
  usage:
    'keyshift agent --config FILE [--source SPEC] [--files DIR] [--socket PATH] [--admin-port N | --admin-socket PATH]\n' +
    '  SPEC: local-store:DIR, file:DIR, env[:PREFIX], gcp[:PROJECT], aws[:REGION] (overrides the file\'s source)',
  async run(args, io) {
    const { values } = parseCommandArgs('agent', args, OPTIONS, []);
    const config = withFlags(await agentConfigOf(values, io), values, io.cwd);
    const logger = agentLogger(io, 'keyshift agent');
    const running = await startAgent({ config, env: io.env, logger });
    const lines = [`keyshift agent: ready, ${config.declaration ? Object.keys(config.declaration).length : 0} entries, generation ${running.view.current().generation}`];
    if (config.files) lines.push(`  files: ${config.files.dir}`);
    if (running.apiAddress) lines.push(`  api:   ${running.apiAddress}`);
    if (running.adminAddress) lines.push(`  admin: ${running.adminAddress}`);
    io.stdout.write(`${lines.join('\n')}\n`);
    const stopChanges = running.view.onChange((snapshot, changed) => {
      const versions = changed.map((name) => `${name}@${snapshot.entries.get(name)?.version ?? 'withheld'}`);
      io.stdout.write(`keyshift agent: generation ${snapshot.generation}: ${versions.join(' ')}\n`);
    });
    await untilAborted(io.signal);
    stopChanges();
    await running.close();
    io.stdout.write('keyshift agent: stopped\n');
    return ExitCode.OK;
  },
});
