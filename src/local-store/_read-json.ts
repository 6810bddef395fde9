import { readFile } from 'node:fs/promises';
import { corrupt, errnoCode, fsError } from './_fs-errors.ts';

/**
 * Reads and parses a store file. Resolves undefined when it does not exist; throws
 * KS_ERR_STORE_CORRUPT naming the file when it is empty or not JSON (a truncated write
 * from another tool: keyshift's own writes are atomic), with `hint` appended.
 */
export async function readJsonFile(path: string, action: string, hint = ''): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fsError(error, action, path);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw corrupt(path, `${text.length === 0 ? 'it is empty' : 'it is not valid JSON (truncated?)'}${hint}`, error);
  }
}
