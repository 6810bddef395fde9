import { resolve } from 'node:path';
import type { AgentConfig } from '../agent/agent-config.ts';
import { loadAgentConfig } from '../agent/load-agent-config.ts';
import { parseSourceFlag } from '../agent/source-config.ts';
import type { Logger } from '../types.ts';
import type { CliIo } from './_command.ts';
import { UsageError } from './_errors.ts';

/** Options `keyshift agent` and `keyshift run` share. */
export const AGENT_CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  source: { type: 'string' },
} as const;

/** The declaration file of --config (or $KEYSHIFT_AGENT_CONFIG), with --source applied over its source. */
export async function agentConfigOf(values: { config?: string | undefined; source?: string | undefined }, io: CliIo): Promise<AgentConfig> {
  const path = values.config ?? io.env.KEYSHIFT_AGENT_CONFIG;
  if (path === undefined || path === '') throw new UsageError('--config FILE is required (or $KEYSHIFT_AGENT_CONFIG)');
  const config = await loadAgentConfig(resolve(io.cwd, path));
  return values.source === undefined ? config : { ...config, source: parseSourceFlag(values.source, io.cwd) };
}

/** Warnings and errors on the command's stderr, prefixed; info dropped. */
export function agentLogger(io: CliIo, prefix: string): Logger {
  const line = (level: string) => (obj: Record<string, unknown>, msg: string) => void io.stderr.write(`${prefix} ${level}: ${msg} ${JSON.stringify(obj)}\n`);
  return { info: () => {}, warn: line('warn'), error: line('error') };
}

/** Resolves when the command's signal aborts (SIGINT/SIGTERM, or a test). */
export function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined || signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
