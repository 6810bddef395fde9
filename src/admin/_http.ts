import type { AuditOutcome } from './audit-log.ts';

/** Headers every admin response carries: nothing is cached, sniffed or framed. */
const BASE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** A JSON response with the base headers. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** A JSON error `{ error: { code, message } }`; messages are built from names and numbers only. */
export function problem(status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return json(status, { error: { code, message, ...extra } }, headers);
}

/** A text or HTML response with the base headers. */
export function text(status: number, body: string, contentType: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...BASE_HEADERS, 'content-type': contentType, ...headers } });
}

/** The audit outcome a status code stands for. */
export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'ok';
  switch (status) {
    case 401:
    case 403:
    case 431:
      return 'denied';
    case 404:
      return 'not-found';
    case 405:
      return 'method-not-allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'too-large';
    case 415:
      return 'unsupported-media-type';
    case 429:
      return 'rate-limited';
    case 503:
      return 'unavailable';
    default:
      return status < 500 ? 'bad-request' : 'error';
  }
}
