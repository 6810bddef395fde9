import { json } from '../_http.ts';
import type { AdminManager } from '../types.ts';

/** GET /healthz: the process answers. No auth, no audit line (probes call it every few seconds). */
export function healthRoute(): Response {
  return json(200, { status: 'ok' });
}

/** GET /readyz: 200 once every manager's ready() resolved (and none is closed), else 503. */
export function readyRoute(managers: readonly AdminManager[]): Response {
  const states = managers.map((ks) => ({ name: ks.name, ready: ks.isReady && !ks.status().closed }));
  const ready = states.every((s) => s.ready);
  return json(ready ? 200 : 503, { ready, managers: states }, ready ? {} : { 'retry-after': '1' });
}
