export type BodyResult = { ok: true; text: string } | { ok: false; status: 400 | 413; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a request body of at most `maxBytes`. A declared Content-Length over the limit
 * is refused without reading a byte; a streamed body is read chunk by chunk and
 * abandoned as soon as it crosses the limit, so nothing past it is buffered.
 */
export async function readBody(request: Request, maxBytes: number): Promise<BodyResult> {
  const tooLarge = { ok: false, status: 413, message: `the body is larger than the limit of ${maxBytes} bytes` } as const;
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => {});
    return tooLarge;
  }
  if (request.body === null) return { ok: true, text: '' };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return tooLarge;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return { ok: true, text: decoder.decode(bytes) };
  } catch {
    return { ok: false, status: 400, message: 'the body is not valid UTF-8' };
  }
}
