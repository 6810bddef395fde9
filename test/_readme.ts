// The README's snippets, by name: a fenced block right after `<!-- snippet: NAME -->`.
import { readFileSync } from 'node:fs';

export const README = new URL('../README.md', import.meta.url);

/** The code of the README block marked `<!-- snippet: name -->`; throws when there is none. */
export function readmeSnippet(name: string): string {
  const text = readFileSync(README, 'utf8');
  const at = text.indexOf(`<!-- snippet: ${name} -->`);
  if (at < 0) throw new Error(`README has no snippet ${name}`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(text.slice(at));
  if (!match?.[1]) throw new Error(`README snippet ${name} has no code block`);
  return match[1];
}
