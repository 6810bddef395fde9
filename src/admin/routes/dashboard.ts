import { DASHBOARD_CSP, dashboardHtml } from '../dashboard/page.ts';
import { text } from '../_http.ts';
import type { RouteResult } from './context.ts';

/**
 * GET /admin/dashboard: the page, served without auth because it holds no data (its
 * fetches carry the token typed into its login form), under a strict CSP.
 * The HTML is built once per handler.
 */
export function dashboardRoute(basePath: string): () => RouteResult {
  const html = dashboardHtml(basePath);
  return () => ({
    response: text(200, html, 'text/html; charset=utf-8', {
      'content-security-policy': DASHBOARD_CSP,
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
    }),
  });
}
