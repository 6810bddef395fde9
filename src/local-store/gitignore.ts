/**
 * Is the local store's master.key inside a git work tree without being ignored? Reads the
 * .gitignore files on the way from the repository root to the key (the usual patterns:
 * names, paths, `*`, `**`, `?`, trailing `/`, `!`), never runs git and never writes.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/** What to do about a master key that git would commit. */
export interface GitignoreAdvice {
  /** The repository root (the directory holding `.git`). */
  root: string;
  /** The .gitignore the line belongs in. */
  gitignore: string;
  /** The line that ignores the store directory, e.g. `/.keyshift/`. */
  line: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The nearest directory at or above `dir` holding `.git` (a directory, or a file in a worktree). */
export async function findGitRoot(dir: string): Promise<string | undefined> {
  for (let at = dir; ; at = dirname(at)) {
    if (await exists(join(at, '.git'))) return at;
    if (dirname(at) === at) return undefined;
  }
}

interface Rule {
  base: string; // the .gitignore's directory, relative to the root ('' at the root), with '/' separators
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

function parseRules(text: string, base: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.replace(/\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const body = globToRegex(line);
    rules.push({ base, negate, dirOnly, regex: new RegExp(anchored ? `^${body}$` : `(^|/)${body}$`) });
  }
  return rules;
}

/** Whether git would ignore `path` (a file inside `root`), by the .gitignore files between them. */
export async function isGitIgnored(root: string, path: string): Promise<boolean> {
  const parts = relative(root, path).split(sep);
  const rules: Rule[] = [];
  for (let depth = 0; depth < parts.length; depth++) {
    const base = parts.slice(0, depth).join('/');
    const text = await readFile(join(root, ...parts.slice(0, depth), '.gitignore'), 'utf8').catch(() => undefined);
    if (text !== undefined) rules.push(...parseRules(text, base));
  }
  // a path is ignored when the last rule matching it says so; inside an ignored directory, always
  for (let depth = 1; depth <= parts.length; depth++) {
    const target = parts.slice(0, depth).join('/');
    const isDir = depth < parts.length;
    let ignored = false;
    for (const rule of rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.base !== '' && !target.startsWith(`${rule.base}/`)) continue;
      const local = rule.base === '' ? target : target.slice(rule.base.length + 1);
      if (rule.regex.test(local)) ignored = !rule.negate;
    }
    if (ignored) return true;
  }
  return false;
}

/** Advice when `keyFile` (a store's master.key) is in a git work tree and not ignored; undefined otherwise. */
export async function masterKeyGitAdvice(keyFile: string): Promise<GitignoreAdvice | undefined> {
  const storeDir = dirname(keyFile);
  const root = await findGitRoot(storeDir);
  if (root === undefined || (await isGitIgnored(root, keyFile))) return undefined;
  const rel = relative(root, storeDir).split(sep).join('/');
  return { root, gitignore: join(root, '.gitignore'), line: rel === '' ? '/master.key' : `/${rel}/` };
}

/** The one-time warning's text: the file, why it matters, the exact line, and the command that adds it. */
export function masterKeyGitWarning(keyFile: string, advice: GitignoreAdvice): string {
  return (
    `keyshift created the local store's master key ${keyFile} inside the git repository ${advice.root}, ` +
    `and no .gitignore ignores it: committing it would let anyone with the repository decrypt the store. ` +
    `Add this line to ${advice.gitignore}: ${advice.line} (or run: npx keyshift init --gitignore --store ${dirname(keyFile)})`
  );
}
