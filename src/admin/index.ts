/** This part's defaults and limits. */
export {
  ADMIN_MAX_AUTH_HEADER_BYTES,
  ADMIN_MAX_REFRESH_NAMES,
  ADMIN_MIN_TOKEN_LENGTH,
  ADMIN_RATE_LIMIT_MAX_CLIENTS,
  ALERT_FAILURE_WINDOW_MS,
  ALERT_FAILURES,
  ALERT_FETCH_LATENCY_MS,
  ALERT_WEBHOOK_QUEUE_SIZE,
  DEFAULT_ADMIN_MAX_BODY_BYTES,
  DEFAULT_ADMIN_PORT,
  DEFAULT_ADMIN_RATE_LIMIT_MAX_FAILURES,
  DEFAULT_ADMIN_RATE_LIMIT_WINDOW_MS,
  DEFAULT_ALERT_WEBHOOK_TIMEOUT_MS,
  GCP_ACCESS_COST_PER_10K,
  USAGE_MONTH_MS,
  USAGE_WINDOW_MS,
} from '../constants.ts';
export {
  ALERT_RULES,
  type Alert,
  type AlertEvent,
  type AlertOptions,
  type AlertRule,
  type AlertRules,
  createAlertRules,
  type NotificationCounters,
  type WatchedNotificationPath,
  type WatchedNotifications,
  type WatchedNotificationSource,
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
