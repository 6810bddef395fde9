import { missingPeerMessage } from '../../_optional-peer.ts';
import { problem, text } from '../_http.ts';
import type { RouteContext, RouteResult } from './context.ts';

/** GET /metrics: Prometheus text from the handler's own registry; 501 when prom-client is not installed. */
export async function metricsRoute(ctx: RouteContext): Promise<RouteResult> {
  if (!ctx.metrics) {
    return { response: problem(501, 'metrics_unavailable', missingPeerMessage('GET /metrics', ['prom-client'])) };
  }
  return { response: text(200, await ctx.metrics.render(), ctx.metrics.contentType) };
}
