import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { configError } from './_checks.ts';
import { type AgentConfig, parseAgentConfig } from './agent-config.ts';

/** A declaration file larger than this is refused (it is a list of names and options). */
export const MAX_AGENT_CONFIG_BYTES = 1024 * 1024;

/** Reads and checks a declaration file (JSON). Relative paths in it resolve against its directory. */
export async function loadAgentConfig(path: string, cwd = process.cwd()): Promise<AgentConfig> {
  const full = resolve(cwd, path);
  let text: string;
  try {
    const bytes = await readFile(full);
    if (bytes.byteLength > MAX_AGENT_CONFIG_BYTES) throw configError(full, `larger than ${MAX_AGENT_CONFIG_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof KeyshiftError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `agent declaration: cannot read ${full} (${code})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // V8's message quotes the text around the fault: never echo the file's content.
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `agent declaration: ${full} is not valid JSON`);
  }
  return parseAgentConfig(json, dirname(full));
}
