import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { CliIo } from './_command.ts';
import { UsageError } from './_errors.ts';

/**
 * Reads a secret value from stdin: refuses a terminal (the value would be typed in the
 * clear) and an empty input, and stops reading past `maxBytes` (plus room for a newline).
 * The bytes are stored as given: the core's one text rule (one BOM and one trailing
 * newline removed) applies when any source's value is read, so `echo x | keyshift put`
 * and a file holding "x\n" read the same.
 */
export async function readValueFromStdin(io: CliIo, maxBytes: number): Promise<Buffer> {
  if (io.stdin.isTTY) {
    throw new UsageError('refusing to read a secret from a terminal; pipe it in, e.g. keyshift put NAME < value.txt');
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    chunks.push(bytes);
    total += bytes.length;
    if (total > maxBytes + 2) break;
  }
  const value = Buffer.concat(chunks, total);
  if (value.length === 0) throw new UsageError('stdin is empty: nothing to store');
  const text = value.subarray(0, value.at(-1) === 0x0a ? (value.at(-2) === 0x0d ? -2 : -1) : undefined);
  if (value.length > maxBytes) {
    const size = total > maxBytes + 2 ? `more than ${maxBytes + 2}` : String(value.length);
    throw new KeyshiftError(ErrorCodes.VALUE_TOO_LARGE, `the value on stdin is ${size} bytes, over the ${maxBytes}-byte limit`, {
      details: { maxBytes },
    });
  }
  if (text.length === 0) throw new UsageError('the value on stdin is only a newline: nothing to store');
  return value;
}
