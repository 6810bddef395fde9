export {
  ALERT_RULES,
  type Alert,
  type AlertEvent,
  type AlertOptions,
  type AlertRule,
  type AlertRules,
  createAlertRules,
  type WatchedPool,
  type WatchedRotations,
} from './alert-rules.ts';
export { AlertWebhook, type AlertWebhookOptions, type DeliveryOutcome, type WebhookUrl } from './alert-webhook.ts';
export { type AuditAction, type AuditOutcome, type AuditRecord, type AuditSink, stderrAuditSink } from './audit-log.ts';
export { type AdminHandler, type AdminHandlerOptions, createAdminHandler } from './create-admin-handler.ts';
export { DASHBOARD_CSP, dashboardHtml } from './dashboard/page.ts';
export { type AdminMetrics, createAdminMetrics } from './metrics.ts';
export { FailureRateLimiter, type RateLimitOptions } from './rate-limit.ts';
export { type AdminStatus, type EntryState, entryState } from './routes/status.ts';
export { type AdminToken, type AuthResult, createTokenAuth, type TokenAuth, type TokenAuthOptions } from '../http/token-auth.ts';
export type { AdminManager, AdminRequestInfo, SnapshotManager } from './types.ts';
export { type UsageSnapshot, UsageMeter } from './usage-meter.ts';
