export * from './codecs/index.ts';
export { createKeyshift, type Keyshift, type Snapshot } from './create-keyshift.ts';
export {
  type Declaration,
  type DynamicKeys,
  defineSecrets,
  type EntryDeclaration,
  type EntryInfo,
  type StaticKeys,
  type StaticValues,
  type ValueOf,
} from './define-secrets.ts';
export { CHANNEL_NAMES, channels } from './diagnostics.ts';
export type { EntryStatus, RolledOut, RolloutStatus } from './entry-state.ts';
export type { EventName, FetchOutcome, KeyshiftEvents, Listener, Trigger } from './events.ts';
export { silentLogger, stderrLogger } from './logger.ts';
export { type InstanceIdentity, instanceIdentityFromEnv } from './instance-identity.ts';
export type { FailureReport, KeyshiftOptions, ManagerStatus, RefreshResult } from './manager.ts';
export { type AdoptionPolicy, DEFAULT_BAKE_MS_BY_CATEGORY, MIXED_FLEET_UNSAFE } from './adoption.ts';
export {
  NotificationHealth,
  type NotificationHealthChange,
  type NotificationHealthOptions,
  type NotificationHealthStatus,
  type NotificationState,
  type TtlGovernor,
} from './notification-health.ts';
export { assertPolicy, DEFAULT_POLICY, type PolicyRule, type PolicySubject } from './policy.ts';
export { MAX_OVERLAP_VALUES, type OverlapValue } from './overlap-window.ts';
export { reveal, Secret } from './redacted.ts';
export { type HmacKey, type HmacVerification, type VerifyHmacOptions, verifyHmacSignature } from './verify-hmac-signature.ts';
export type { BackoffOptions } from './schedule.ts';
export { StartupError, type StartupFailure, type StartupProblem } from './startup-report.ts';
