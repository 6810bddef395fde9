import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './_errors.ts';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type ParsedArgs<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** Options every store command takes. */
export const STORE_OPTIONS = {
  /** A store directory, gcp://PROJECT or aws://REGION. Default: $KEYSHIFT_STORE_DIR, else .keyshift/store. */
  store: { type: 'string' },
  /** The Secret Manager (HOST:PORT, an emulator) or AWS (URL) endpoint of a gcp:// or aws:// store. */
  endpoint: { type: 'string' },
  /** Machine-readable output on stdout. */
  json: { type: 'boolean', default: false },
} as const satisfies OptionsConfig;

/**
 * Parses a command's arguments strictly (unknown options are usage errors) and checks the
 * number of positionals. Positionals are never echoed back: a value pasted as an argument
 * must not end up in an error message.
 */
export function parseCommandArgs<const O extends OptionsConfig>(
  command: string,
  args: readonly string[],
  options: O,
  positionalNames: readonly string[],
  hint = '',
): ParsedArgs<O> {
  let parsed: ParsedArgs<O>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // Node's message quotes the option twice; an option typed by mistake can be a pasted value
      const at = args.findIndex((arg) => arg.startsWith('-') && arg !== '--' && !isDeclared(arg, options));
      throw new UsageError(`${at === -1 ? 'an argument' : `argument ${at + 1}`} is not an option of ${command} (keyshift ${command} --help lists them)`);
    }
    throw error;
  }
  const expected = positionalNames.length;
  if (parsed.positionals.length !== expected) {
    const names = positionalNames.join(' ');
    throw new UsageError(
      `${command} takes ${expected === 0 ? 'no arguments' : `${expected} argument${expected === 1 ? '' : 's'} (${names})`}, got ${parsed.positionals.length}${hint}`,
    );
  }
  return parsed;
}

/** True when `arg` (`--name`, `--name=value`, `-n`) is one of `options`. */
function isDeclared(arg: string, options: OptionsConfig): boolean {
  const flag = arg.split('=', 1)[0]!;
  if (flag.startsWith('--')) return Object.hasOwn(options, flag.slice(2));
  return Object.values(options).some((o) => o.short !== undefined && flag.slice(1).split('').every((c) => c === o.short));
}

/** A version argument: a positive integer. */
export function parseVersionArg(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw new UsageError('VERSION must be a positive integer');
  return Number(text);
}

/** A TCP port argument: 0 (any free port) to 65535. */
export function parsePortArg(text: string, flag: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65_535) throw new UsageError(`${flag} must be 0..65535`);
  return Number(text);
}
