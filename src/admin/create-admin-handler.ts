import { DEFAULT_ADMIN_MAX_BODY_BYTES } from '../constants.ts';
import { systemClock } from '../core/clock.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Clock, Disposer } from '../types.ts';
import { type AlertOptions, type AlertRules, createAlertRules } from './alert-rules.ts';
import { type AuditAction, type AuditSink, safeAuditSink, stderrAuditSink } from './audit-log.ts';
import { outcomeOf, problem } from './_http.ts';
import { type AdminMetrics, createAdminMetrics } from './metrics.ts';
import { FailureRateLimiter, type RateLimitOptions } from './rate-limit.ts';
import type { RouteContext, RouteResult } from './routes/context.ts';
import { dashboardRoute } from './routes/dashboard.ts';
import { healthRoute, readyRoute } from './routes/health.ts';
import { metricsRoute } from './routes/metrics.ts';
import { refreshRoute } from './routes/refresh.ts';
import { statusRoute } from './routes/status.ts';
import { type AdminToken, createTokenAuth } from '../http/token-auth.ts';
import type { AdminManager, AdminRequestInfo } from './types.ts';
import { UsageMeter } from './usage-meter.ts';
import { checkAdminOptions } from './_check-admin-options.ts';
import type { EveryKey } from '../_every-key.ts';

export interface AdminHandlerOptions {
  /** The managers to serve: one service's, or several. */
  managers: AdminManager | readonly AdminManager[];
  /** The bearer token: a string, a Secret (such as `ks.static.ADMIN_API_TOKEN`) or a function read per request. At least 16 characters. */
  token: AdminToken;
  /** Prefix of every route. Default '/': routes are /admin/refresh, /admin/status, /admin/dashboard, /metrics, /healthz, /readyz. */
  basePath?: string;
  /** Receives one record per admin request. Default: a JSON line on stderr. */
  auditLog?: AuditSink;
  /** Alert thresholds, webhook and logger. Default: the reference platform's thresholds, log lines on stderr, no webhook. */
  alerts?: AlertOptions;
  /** Failed-auth limit per client address. Default 10 failures per 60 s, then 429 with Retry-After. */
  rateLimit?: RateLimitOptions;
  /** Largest request body accepted. Default 16 KiB. */
  maxBodyBytes?: number;
  /** Serve GET /metrics (needs the optional peer prom-client; without it the route answers 501). Default true; false removes the route. */
  metrics?: boolean;
  /** Key of the token fingerprints in audit lines; give one to keep them stable across restarts. Default: random per process. */
  fingerprintKey?: Uint8Array;
  /** Time source for the rate limit, alert windows and usage rate. Default the system clock. */
  clock?: Clock;
}

/** Every option's name, for checkAdminOptions(): an option added to AdminHandlerOptions and not here is a type error. */
const OPTION_FIELDS: EveryKey<AdminHandlerOptions> = {
  managers: true,
  token: true,
  basePath: true,
  auditLog: true,
  alerts: true,
  rateLimit: true,
  maxBodyBytes: true,
  metrics: true,
  fingerprintKey: true,
  clock: true,
};
const OPTION_NAMES = Object.keys(OPTION_FIELDS);

/** A web-standard handler (Hono, unstorage style) plus what its adapters and owner need. */
export interface AdminHandler {
  (request: Request, info?: AdminRequestInfo): Promise<Response>;
  /** The normalised prefix, always ending in '/'. */
  readonly basePath: string;
  /** True for the paths this handler answers (adapters pass everything else on). */
  handles(pathname: string): boolean;
  /** The alert rules: what is firing, and a subscription to firing/resolved events. */
  readonly alerts: AlertRules;
  /** Unsubscribes from the managers and abandons pending webhook deliveries. The managers stay open. */
  close(): Promise<void>;
}

interface Route {
  /** The audit action; undefined for probes, which are not audited. */
  action: AuditAction | undefined;
  auth: boolean;
  methods: readonly string[];
  run(request: Request): Promise<RouteResult> | RouteResult;
}

function normaliseBase(basePath: string | undefined): string {
  const base = basePath ?? '/';
  if (!base.startsWith('/')) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'basePath must start with "/"');
  return base.endsWith('/') ? base : `${base}/`;
}

/** Every method some route serves; anything else is a 405 before authentication. */
const SERVED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

/** The method for an audit line: an HTTP token as sent, else '?'. */
function shownMethod(method: string): string {
  return TOKEN.test(method) ? method : '?';
}

function clientOf(info: AdminRequestInfo | undefined): string {
  const raw = info?.clientAddress;
  return typeof raw === 'string' && raw !== '' ? raw.replace(/[^\w.:%[\]-]/g, '?').slice(0, 64) : 'unknown';
}

/**
 * Builds the admin surface: POST /admin/refresh, GET /admin/status, GET /metrics,
 * GET /healthz, GET /readyz and GET /admin/dashboard, as one `(Request) => Response`
 * handler. Async because prom-client, an optional peer, is imported here.
 */
export async function createAdminHandler(options: AdminHandlerOptions): Promise<AdminHandler> {
  checkAdminOptions(options, OPTION_NAMES);
  const managers = [options.managers].flat() as AdminManager[];
  if (managers.length === 0) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'createAdminHandler() needs at least one manager');
  const basePath = normaliseBase(options.basePath);
  const clock = options.clock ?? systemClock;
  const auth = createTokenAuth(options.token, options.fingerprintKey ? { fingerprintKey: options.fingerprintKey } : {});
  const limiter = new FailureRateLimiter(options.rateLimit, clock);
  const audit = safeAuditSink(options.auditLog ?? stderrAuditSink);
  const usage = new UsageMeter(clock);
  const disposers: Disposer[] = managers.map((ks) => ks.on('fetch', (e) => usage.record(e.trigger !== 'startup')));
  let firing: AlertRules['firing'] = () => [];
  let notifications: AlertRules['notifications'] = () => [];
  const metrics: AdminMetrics | undefined =
    options.metrics === false ? undefined : await createAdminMetrics(managers, () => firing(), () => notifications());
  const alerts = createAlertRules(managers, options.alerts, clock, metrics?.countDelivery);
  firing = alerts.firing;
  notifications = alerts.notifications;
  const ctx: RouteContext = { managers, alerts, usage, metrics, maxBodyBytes: options.maxBodyBytes ?? DEFAULT_ADMIN_MAX_BODY_BYTES, basePath, clock };

  const routes = new Map<string, Route>([
    [`${basePath}admin/refresh`, { action: 'refresh', auth: true, methods: ['POST'], run: (request) => refreshRoute(request, ctx) }],
    [`${basePath}admin/status`, { action: 'status', auth: true, methods: ['GET', 'HEAD'], run: () => statusRoute(ctx) }],
    [`${basePath}admin/dashboard`, { action: 'dashboard', auth: false, methods: ['GET', 'HEAD'], run: dashboardRoute(basePath) }],
    [`${basePath}healthz`, { action: undefined, auth: false, methods: ['GET', 'HEAD'], run: () => ({ response: healthRoute() }) }],
    [`${basePath}readyz`, { action: undefined, auth: false, methods: ['GET', 'HEAD'], run: () => ({ response: readyRoute(managers) }) }],
  ]);
  if (options.metrics !== false) {
    routes.set(`${basePath}metrics`, { action: 'metrics', auth: true, methods: ['GET', 'HEAD'], run: () => metricsRoute(ctx) });
  }
  const adminPrefix = `${basePath}admin/`;
  const handles = (pathname: string): boolean => routes.has(pathname) || pathname.startsWith(adminPrefix) || pathname === `${basePath}admin`;

  const record = (action: AuditAction, client: string, status: number, result: Partial<RouteResult>, fingerprint?: string, method?: string): void => {
    metrics?.countRequest(action, status);
    audit({
      time: new Date(clock.wallNow()).toISOString(),
      client,
      action,
      names: result.names ?? [],
      ...(result.unknownNames ? { unknownNames: result.unknownNames } : {}),
      outcome: outcomeOf(status),
      status,
      ...(status === 405 && method !== undefined ? { method: shownMethod(method) } : {}),
      ...(fingerprint ? { tokenFingerprint: fingerprint } : {}),
    });
  };

  const serve = async (route: Route, request: Request, client: string, method: string): Promise<{ result: RouteResult; fingerprint?: string }> => {
    if (route.auth) {
      const waitMs = limiter.blockedForMs(client);
      if (waitMs > 0) {
        const seconds = String(Math.max(1, Math.ceil(waitMs / 1000)));
        return { result: { response: problem(429, 'rate_limited', `too many failed attempts; retry in ${seconds} s`, {}, { 'retry-after': seconds }) } };
      }
      const verdict = auth.check(request.headers.get('authorization'));
      if (!verdict.ok) {
        limiter.fail(client);
        const message = verdict.status === 403 ? 'the token is not valid' : verdict.status === 431 ? 'the Authorization header is too large' : 'send Authorization: Bearer <admin token>';
        const code = verdict.status === 403 ? 'forbidden' : verdict.status === 431 ? 'header_too_large' : 'unauthorized';
        const headers: Record<string, string> = verdict.status === 401 ? { 'www-authenticate': 'Bearer realm="keyshift"' } : {};
        return { result: { response: problem(verdict.status, code, message, {}, headers) }, ...(verdict.fingerprint ? { fingerprint: verdict.fingerprint } : {}) };
      }
      if (!route.methods.includes(method)) return { result: methodNotAllowed(route), fingerprint: verdict.fingerprint };
      return { result: await route.run(request), fingerprint: verdict.fingerprint };
    }
    if (!route.methods.includes(method)) return { result: methodNotAllowed(route) };
    return { result: await route.run(request) };
  };

  const handler = async (request: Request, info?: AdminRequestInfo): Promise<Response> => {
    const client = clientOf(info);
    // the method as sent: an adapter passes the ones a web Request cannot carry (TRACE...)
    const method = typeof info?.method === 'string' && info.method !== '' ? info.method : request.method;
    const pathname = new URL(request.url).pathname;
    const route = routes.get(pathname);
    if (!route) {
      await request.body?.cancel().catch(() => {});
      if (pathname === `${basePath}admin` || pathname === adminPrefix) {
        return new Response(null, { status: 302, headers: { location: `${basePath}admin/dashboard`, 'cache-control': 'no-store' } });
      }
      const response = problem(404, 'not_found', 'no such admin route');
      if (handles(pathname)) record('unknown-route', client, 404, {});
      return response;
    }
    if (!SERVED_METHODS.has(method)) {
      // TRACE, CONNECT, OPTIONS, PUT, a lowercase or unknown token: no route serves it, so
      // the answer does not depend on the token, and the rate limit is not involved
      await request.body?.cancel().catch(() => {});
      const refused = methodNotAllowed(route);
      record(route.action ?? 'probe', client, 405, refused, undefined, method);
      return refused.response;
    }
    let outcome: { result: RouteResult; fingerprint?: string };
    try {
      outcome = await serve(route, request, client, method);
    } catch (error) {
      const code = error instanceof KeyshiftError ? error.code : ErrorCodes.INTERNAL;
      outcome = { result: { response: problem(500, code, 'the admin request failed unexpectedly') } };
    }
    const { result, fingerprint } = outcome;
    if (request.body && !request.bodyUsed) await request.body.cancel().catch(() => {});
    if (route.action) record(route.action, client, result.response.status, result, fingerprint, method);
    if (method !== 'HEAD') return result.response;
    return new Response(null, { status: result.response.status, headers: result.response.headers });
  };

  return Object.assign(handler, {
    basePath,
    handles,
    alerts,
    async close() {
      for (const dispose of disposers.splice(0)) dispose();
      metrics?.close();
      await alerts.close();
    },
  });
}

function methodNotAllowed(route: Route): RouteResult {
  const allow = route.methods.join(', ');
  return { response: problem(405, 'method_not_allowed', `use ${allow}`, {}, { allow }) };
}
