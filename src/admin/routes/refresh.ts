import { NAME_WITHHELD, readsLikeName, shownName } from '../../core/shown-name.ts';
import { ADMIN_MAX_REFRESH_NAMES } from '../../constants.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { json, problem } from '../_http.ts';
import { describeJsonError } from '../_json-error.ts';
import { readBody } from '../../http/read-body.ts';
import type { AdminManager } from '../types.ts';
import type { RouteContext, RouteResult } from './context.ts';

/** Entry names as defineSecrets() accepts them; only such names are ever echoed. */
const ENTRY_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,254}$/;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

interface RefreshRequest {
  names: string[] | undefined;
  manager: string | undefined;
}

type Parsed = { ok: true; value: RefreshRequest } | { ok: false; response: Response };

function invalid(message: string): Parsed {
  return { ok: false, response: problem(400, 'invalid_request', message) };
}

function parseRequest(text: string): Parsed {
  if (text.trim() === '') return { ok: true, value: { names: undefined, manager: undefined } };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, response: problem(400, 'malformed_json', describeJsonError(text)) };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('the body must be a JSON object such as {"names": ["NAME"]}');
  const { names, manager, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return invalid('only the fields "names" and "manager" are accepted');
  if (manager !== undefined && typeof manager !== 'string') return invalid('"manager" must be a string');
  if (names === undefined) return { ok: true, value: { names: undefined, manager } };
  if (!Array.isArray(names)) return invalid('"names" must be an array of entry names');
  if (names.length > ADMIN_MAX_REFRESH_NAMES) return invalid(`"names" lists ${names.length} entries; at most ${ADMIN_MAX_REFRESH_NAMES} are accepted`);
  for (const [index, name] of names.entries()) {
    if (typeof name !== 'string' || !ENTRY_NAME.test(name)) return invalid(`names[${index}] is not an entry name (letters, digits, _ and -)`);
  }
  return { ok: true, value: { names: [...new Set(names as string[])], manager } };
}

/** Which managers refresh which names; 404 for undeclared names, 409 for static ones. */
function plan(scope: readonly AdminManager[], names: string[]): { ok: true; work: Map<AdminManager, string[]> } | { ok: false; result: RouteResult } {
  const work = new Map<AdminManager, string[]>();
  const unknown: string[] = [];
  const statics: string[] = [];
  for (const name of names) {
    const owners = scope.filter((ks) => ks.entries.some((e) => e.name === name));
    if (owners.length === 0) unknown.push(name);
    else if (owners.some((ks) => ks.entries.find((e) => e.name === name)?.kind === 'static')) statics.push(name);
    for (const ks of owners) work.set(ks, [...(work.get(ks) ?? []), name]);
  }
  const known = names.filter((n) => !unknown.includes(n));
  if (unknown.length > 0) {
    const message = `unknown entry ${shownName(unknown[0])}: no manager declares it`;
    const entries = unknown.map((name) => (readsLikeName(name) ? name : NAME_WITHHELD));
    return { ok: false, result: { response: problem(404, ErrorCodes.UNKNOWN_ENTRY, message, { entries }), names: known, unknownNames: unknown.length } };
  }
  if (statics.length > 0) {
    const message = `entry ${statics[0]} is static: it is read once at startup and never refreshed; restart the service to load a new version`;
    return { ok: false, result: { response: problem(409, ErrorCodes.WRONG_KIND, message, { entries: statics }), names: known } };
  }
  return { ok: true, work };
}

/**
 * POST /admin/refresh: forces a fetch of every dynamic entry, or of those named in
 * `{ "names": [...] }` (optionally `"manager"`). Answers names, versions and whether
 * they changed or were coalesced; never a value.
 */
export async function refreshRoute(request: Request, ctx: RouteContext): Promise<RouteResult> {
  const type = request.headers.get('content-type');
  const unsupported = { response: problem(415, 'unsupported_media_type', 'send the body as application/json') };
  if (type !== null && !JSON_TYPE.test(type)) {
    await request.body?.cancel().catch(() => {});
    return unsupported;
  }
  const body = await readBody(request, ctx.maxBodyBytes);
  if (!body.ok) {
    const extra = body.status === 413 ? { connection: 'close' } : undefined;
    return { response: problem(body.status, body.status === 413 ? 'payload_too_large' : 'invalid_request', body.message, {}, extra) };
  }
  // No Content-Type is fine for an empty body (curl -X POST, a chunked empty body), not for a real one.
  if (type === null && body.text.trim() !== '') return unsupported;
  const parsed = parseRequest(body.text);
  if (!parsed.ok) return { response: parsed.response };
  const { names, manager } = parsed.value;
  const scope = manager === undefined ? ctx.managers : ctx.managers.filter((ks) => ks.name === manager);
  if (scope.length === 0) {
    const shown = /^[\w.:-]{1,128}$/.test(manager ?? '') && (manager ?? '').split(/[.:]+/).every((part) => part === '' || readsLikeName(part)) ? ` ${JSON.stringify(manager)}` : '';
    return { response: problem(404, 'unknown_manager', `no manager named${shown} is served here`), names: names ?? [] };
  }
  let work: Map<AdminManager, string[] | undefined>;
  if (names === undefined) {
    work = new Map(scope.map((ks) => [ks, undefined]));
  } else {
    const planned = plan(scope, names);
    if (!planned.ok) return planned.result;
    work = planned.work;
  }
  try {
    const batches = await Promise.all(
      [...work].map(async ([ks, list]) => (await ks.refresh(list, { trigger: 'admin' })).map((r) => ({ manager: ks.name, ...r }))),
    );
    const results = batches.flat();
    return { response: json(200, { results }), names: names ?? [] };
  } catch (error) {
    if (error instanceof KeyshiftError && (error.code === ErrorCodes.NOT_READY || error.code === ErrorCodes.CLOSED)) {
      return { response: problem(503, error.code, error.message, {}, { 'retry-after': '1' }), names: names ?? [] };
    }
    throw error;
  }
}
