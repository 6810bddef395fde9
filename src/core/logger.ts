import type { Logger } from '../types.ts';

function line(level: string, obj: Record<string, unknown>, msg: string): void {
  process.stderr.write(`keyshift ${level}: ${msg} ${JSON.stringify(obj)}\n`);
}

/** The default: warnings and errors as one line each on stderr; info is dropped. Never given a value. */
export const stderrLogger: Logger = Object.freeze({
  info: () => {},
  warn: (obj: Record<string, unknown>, msg: string) => line('warn', obj, msg),
  error: (obj: Record<string, unknown>, msg: string) => line('error', obj, msg),
});

export const silentLogger: Logger = Object.freeze({ info: () => {}, warn: () => {}, error: () => {} });
