import { ErrorCodes, KeyshiftError, toKeyshiftError } from '../errors.ts';
import { type CliIo, type Command, ExitCode } from './_command.ts';
import { screenArguments } from './_screen-args.ts';

/** A mistake in how the command was called: exit 2, with the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Node's parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes: they are usage errors too. */
function isParseArgsError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS_');
}

/**
 * Prints an error the way scripts can rely on and resolves the exit code:
 * `keyshift: usage: ...` (2), `keyshift: KS_ERR_...: message` (3 for not found, else 1).
 * Messages come from KeyshiftErrors, which never hold a value; anything else is wrapped.
 * `args` (the command's arguments) are screened out of the message (_screen-args.ts).
 */
export function reportError(error: unknown, io: CliIo, command?: Command, args: readonly string[] = []): number {
  const screen = (message: string): string => screenArguments(message, args, command?.usage);
  if (error instanceof UsageError || isParseArgsError(error)) {
    io.stderr.write(`keyshift: usage: ${screen(error.message)}\n`);
    if (command !== undefined) io.stderr.write(`usage: ${command.usage}\n`);
    return ExitCode.USAGE;
  }
  const known = error instanceof KeyshiftError ? error : toKeyshiftError(error);
  io.stderr.write(`keyshift: ${known.code}: ${screen(known.message)}\n`);
  if (known.code === ErrorCodes.SOURCE_NOT_FOUND) return ExitCode.NOT_FOUND;
  if (known.code === ErrorCodes.INVALID_DECLARATION) return ExitCode.USAGE;
  return ExitCode.FAILURE;
}
