/**
 * The CLI's promise (docs/cli.md, "Arguments in errors"): the error line a command exits
 * with never repeats an argument that could be a value. A NAME, a VERSION or alias, an
 * option's value and an unknown option are replaced by their place in the usage
 * (`NAME`, `V`, `argument 3`); declared option names (`--store`, `--json`) and paths
 * (`DIR`, `FILE`, `PATH`: a path is not where a value gets pasted, and an error about a
 * store is useless without it) are kept. Every error goes through here (reportError),
 * whatever produced it: the store, Node's argument parser, a command.
 */

/** Placeholders whose argument is a file or directory: shown as typed. */
const PATHS = new Set(['DIR', 'FILE', 'PATH']);
const ALWAYS = ['--store', '--json', '--help', '-h'];

interface UsageShape {
  /** Declared option → the placeholder of its value (undefined for a flag). */
  options: Map<string, string | undefined>;
  /** The positional placeholders, in order. */
  positionals: string[];
}

/** The words of a usage line, without brackets, parentheses and `|`, and without a leading `keyshift CMD`. */
function wordsOf(line: string): string[] {
  const words = line
    .replace(/[[\]()]/g, ' ')
    .split(/\s+/)
    .filter((t) => t !== '' && t !== '|');
  return words[0] === 'keyshift' ? words.slice(2) : words;
}

/**
 * Reads the options and positionals a usage declares: `keyshift get NAME [--version V]
 * [--reveal]`. Options on every line (rotate lists its rotators' options below the
 * first), positionals from the first line only (the rest is prose in parentheses).
 */
function shapeOf(usage: string): UsageShape {
  const options = new Map<string, string | undefined>(ALWAYS.map((o) => [o, undefined]));
  const positionals: string[] = [];
  usage.split('\n').forEach((line, index) => {
    const tokens = wordsOf(line);
    let before = true;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      const next = tokens[i + 1];
      if (/^--?[A-Za-z]/.test(token)) {
        before = false;
        const [flag, inline] = token.split('=', 2) as [string, string | undefined];
        if (inline !== undefined) options.set(flag, /^[A-Z]/.test(inline) ? inline : 'VALUE');
        else if (next !== undefined && !next.startsWith('-')) {
          options.set(flag, /^[A-Z]/.test(next) ? next.replace(/[^A-Za-z0-9_].*$/, '') : 'VALUE');
          i++;
        } else if (!options.has(flag)) options.set(flag, undefined);
      } else if (index === 0 && before && /^[A-Z][A-Z0-9_]*$/.test(token)) positionals.push(token);
    }
  });
  if (usage.includes('--store DIR')) options.set('--store', 'DIR');
  return { options, positionals };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `message` with every argument of `args` that could be a value replaced by its
 * placeholder. `usage` is the command's usage line (undefined: every argument is hidden).
 */
export function screenArguments(message: string, args: readonly string[], usage?: string): string {
  const { options, positionals } = usage === undefined ? { options: new Map<string, string | undefined>(), positionals: [] } : shapeOf(usage);
  const hide: Array<[string, string]> = [];
  let position = 0;
  let rest = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!rest && arg === '--') {
      rest = true;
      continue;
    }
    if (!rest && arg.startsWith('-') && arg.length > 1) {
      const eq = arg.indexOf('=');
      const flag = eq === -1 ? arg : arg.slice(0, eq);
      if (!options.has(flag)) {
        hide.push([arg, `argument ${i + 1}`], [flag, `argument ${i + 1}`]);
        if (eq !== -1) hide.push([arg.slice(eq + 1), `argument ${i + 1}`]);
        continue;
      }
      const placeholder = options.get(flag);
      if (placeholder === undefined) continue;
      const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
      if (value !== undefined && !PATHS.has(placeholder)) hide.push([value, placeholder]);
      continue;
    }
    const placeholder = positionals[position++] ?? `argument ${i + 1}`;
    if (!PATHS.has(placeholder)) hide.push([arg, placeholder]);
  }
  if (hide.length === 0) return message;
  // one pass, longest first: a placeholder put in is never replaced again, and "abc"
  // inside a hidden "abcdef" is not left half-replaced
  const by = new Map<string, string>();
  for (const [text, placeholder] of hide) if (text !== '' && !by.has(text.toLowerCase())) by.set(text.toLowerCase(), placeholder);
  if (by.size === 0) return message;
  const alternatives = [...by.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(`(?<![A-Za-z0-9_-])(?:${alternatives.join('|')})(?![A-Za-z0-9_-])`, 'giu');
  return message.replace(pattern, (found) => by.get(found.toLowerCase()) ?? 'argument');
}
