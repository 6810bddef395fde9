/**
 * The start-up report: when ready() fails, one error whose message is a block listing
 * every entry that did not load, what kind of failure it is, and what to do (the
 * `keyshift put` command for a missing one in the local store), instead of one warning
 * per entry and a joined line. Built from names, store keys, codes and the entries' own
 * value-free messages: never a value.
 */
import { ErrorCodes, type ErrorCode, KeyshiftError } from '../errors.ts';

/** What kind of failure kept an entry from loading. */
export type StartupProblem = 'missing' | 'rejected' | 'denied' | 'disabled' | 'unavailable' | 'timeout' | 'other';

/** One entry of the report. */
export interface StartupFailure {
  entry: string;
  problem: StartupProblem;
  code: ErrorCode;
  /** The entry's own error message (value-free). */
  message: string;
  /** What to do about it. */
  fix: string;
}

/** What the manager knows when ready() fails. */
export interface StartupReportInput {
  manager: string;
  /** The source's kind (local-store, gcp-secret-manager, fallback(a>b)...). */
  sourceKind: string;
  /** The source's description of where an entry lives (Source.locate). */
  locate: (entry: string) => string | undefined;
  /** The entry's store key (the `key` of its declaration, else its name). */
  keyOf: (entry: string) => string;
  entries: number;
  failed: readonly KeyshiftError[];
  /** Entries still loading when startupTimeoutMs ran out. */
  pending: readonly string[];
  timeoutMs: number;
}

function problemOf(code: string): StartupProblem {
  switch (code) {
    case ErrorCodes.SOURCE_NOT_FOUND:
      return 'missing';
    case ErrorCodes.VALUE_REJECTED:
    case ErrorCodes.VALUE_TOO_LARGE:
    case ErrorCodes.CHECKSUM_MISMATCH:
      return 'rejected';
    case ErrorCodes.SOURCE_DENIED:
      return 'denied';
    case ErrorCodes.VERSION_DISABLED:
      return 'disabled';
    case ErrorCodes.SOURCE_UNAVAILABLE:
    case ErrorCodes.SOURCE_THROTTLED:
    case ErrorCodes.SOURCE_TIMEOUT:
      return 'unavailable';
    default:
      return 'other';
  }
}

const quote = (text: string): string => (/^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`);

/** The command that adds a value for `key`, when the source is one keyshift knows how to write to. */
export function addValueCommand(sourceKind: string, key: string, where: string | undefined): string | undefined {
  const kind = sourceKind.startsWith('fallback(') ? sourceKind.slice('fallback('.length).split('>')[0] ?? '' : sourceKind;
  const local = where === undefined ? undefined : / of the local store at (.+?)(?:, then |$)/.exec(where)?.[1];
  if (kind === 'local-store') {
    return `printf %s "$VALUE" | npx keyshift put ${quote(key)}${local === undefined ? '' : ` --store ${quote(local)}`}`;
  }
  if (kind === 'gcp-secret-manager') {
    const resource = where === undefined ? undefined : /projects\/([^/\s]+)\/secrets\/([^/\s]+)/.exec(where);
    const [project, secret] = resource ? [resource[1], resource[2]] : [undefined, key];
    return `printf %s "$VALUE" | gcloud secrets create ${quote(secret ?? key)} --data-file=-${project ? ` --project ${quote(project)}` : ''} (or: gcloud secrets versions add)`;
  }
  if (kind === 'aws-secrets-manager') {
    const secretId = where === undefined ? undefined : /AWS Secrets Manager secret (\S+) \(/.exec(where)?.[1];
    return `aws secretsmanager create-secret --name ${quote(secretId ?? key)} --secret-string "$VALUE" (or: put-secret-value)`;
  }
  if (kind === 'env') {
    const variable = where === undefined ? undefined : /environment variable (\S+)/.exec(where)?.[1];
    return `export ${variable ?? key}=...`;
  }
  if (kind === 'file' && where !== undefined && where.startsWith('/')) return `printf %s "$VALUE" > ${quote(where)}`;
  return undefined;
}

function fixFor(problem: StartupProblem, input: StartupReportInput, entry: string): string {
  const key = input.keyOf(entry);
  const where = input.locate(entry);
  switch (problem) {
    case 'missing': {
      const command = addValueCommand(input.sourceKind, key, where);
      const optional = 'or declare it optional: true';
      return command ? `add it: ${command}  (${optional})` : `add ${key} to ${where ?? input.sourceKind} (${optional})`;
    }
    case 'rejected': {
      const command = addValueCommand(input.sourceKind, key, where);
      return `store a value its type accepts${command ? `: ${command}` : ''}`;
    }
    case 'denied':
      return `let this service read ${where ?? key} (IAM, file permission), or check that it exists`;
    case 'disabled':
      return `enable the version, or add a new one of ${key}`;
    case 'unavailable':
      return `the store did not answer: check that it is reachable from here; ready() retried until startupTimeoutMs (${input.timeoutMs} ms)`;
    case 'timeout':
      return `still loading after startupTimeoutMs (${input.timeoutMs} ms): check that ${input.sourceKind} is reachable, or raise startupTimeoutMs`;
    default:
      return 'see the error code in docs/errors.md';
  }
}

/** ready() failed: the report of every entry that did not load. `failures` has one line each. */
export class StartupError extends KeyshiftError {
  declare readonly failures: readonly StartupFailure[];

  constructor(code: ErrorCode, message: string, failures: readonly StartupFailure[], cause: KeyshiftError | undefined) {
    const only = failures.length === 1 ? failures[0] : undefined;
    const pending = failures.filter((f) => f.problem === 'timeout').map((f) => f.entry);
    super(code, message, {
      ...(only ? { entry: only.entry } : {}),
      ...(cause ? { cause } : {}),
      details: {
        ...(only && cause ? cause.details : {}), // one failure: its facts (reason, resource...) stay on the error
        failed: failures.length,
        problems: [...new Set(failures.map((f) => f.problem))].join(','),
        ...(pending.length > 0 ? { pending: pending.join(', ') } : {}),
      },
    });
    this.name = 'StartupError';
    // not enumerable: an uncaught StartupError prints its report once, not again as a dump
    Object.defineProperty(this, 'failures', { value: Object.freeze([...failures]), enumerable: false });
  }
}

/** The failure kinds' codes: a single kind keeps its own code; different kinds are KS_ERR_STARTUP_FAILED. */
function codeOf(failures: readonly StartupFailure[], timedOut: boolean): ErrorCode {
  if (timedOut) return ErrorCodes.STARTUP_TIMEOUT;
  const codes = new Set(failures.map((f) => f.code));
  return codes.size === 1 ? (failures[0] as StartupFailure).code : ErrorCodes.STARTUP_FAILED;
}

/** Builds the report error of a failed ready(). */
export function startupError(input: StartupReportInput): StartupError {
  const failures: StartupFailure[] = [
    ...input.failed.map((error): StartupFailure => {
      const entry = error.entry ?? '(unknown entry)';
      const problem = problemOf(error.code);
      return { entry, problem, code: error.code, message: error.message, fix: fixFor(problem, input, entry) };
    }),
    ...input.pending.map(
      (entry): StartupFailure => ({
        entry,
        problem: 'timeout',
        code: ErrorCodes.STARTUP_TIMEOUT,
        message: `not loaded from ${input.locate(entry) ?? input.sourceKind} within ${input.timeoutMs} ms`,
        fix: fixFor('timeout', input, entry),
      }),
    ),
  ].sort((a, b) => a.entry.localeCompare(b.entry));
  const timedOut = input.pending.length > 0;
  const code = codeOf(failures, timedOut);
  const width = Math.max(...failures.map((f) => f.entry.length), 5);
  const kinds = Math.max(...failures.map((f) => f.problem.length));
  const lines = failures.map(
    (f) => `  ${f.entry.padEnd(width)}  ${f.problem.padEnd(kinds)}  ${f.code}: ${f.message}\n  ${' '.repeat(width)}  ${' '.repeat(kinds)}  fix: ${f.fix}`,
  );
  const head = timedOut
    ? `${input.manager}: ready() timed out after ${input.timeoutMs} ms; not loaded from ${input.sourceKind}: ${input.pending.join(', ')} (${failures.length} of ${input.entries} entries failed):`
    : `${input.manager}: ready() failed: ${failures.length} of ${input.entries} entries could not be loaded from ${input.sourceKind}:`;
  const message = `${head}\n${lines.join('\n')}`;
  // the cause only for a single failure: with several, the report is the whole story (no second dump)
  return new StartupError(code, message, failures, failures.length === 1 ? input.failed[0] : undefined);
}
