export {
  addKey,
  createHmacKeyring,
  createKeyset,
  type HmacKeyring,
  type HmacKeyringOptions,
  hmacKeysetSchema,
  type Keyset,
  KEYSET_FORMAT,
  type KeyState,
  type KeyringEvents,
  type NewKeyOptions,
  type PromoteOptions,
  parseKeyset,
  promoteKey,
  retireKeys,
  serializeKeyset,
  type StoredKey,
  type VerifyFailure,
  type VerifyResult,
} from './hmac-keyring.ts';
export {
  createRotatingPool,
  type RotatingPool,
  type RotatingPoolEvents,
  type RotatingPoolOptions,
  type RotatingPoolStatus,
} from './pg-pool.ts';
export {
  failedRequestsOf,
  type InstanceReport,
  type RotationReport,
  servedVersions,
  type VerifyRotationOptions,
  verifyRotation,
} from './rotation-verifier.ts';
export {
  createRotationScheduler,
  type RotateNotification,
  type RotatePushOptions,
  type RotationScheduler,
  type RotationSchedulerEvents,
  type RotationSchedulerOptions,
  type RotationTrigger,
  type RotationWindow,
  type ScheduledRotation,
} from './rotation-scheduler.ts';
export {
  createRotationRunner,
  type FinishedContext,
  type LastRotation,
  type PendingContext,
  type RotationCondition,
  type RotationContext,
  type RotationEvents,
  type RotationFailure,
  type RotationOutcome,
  type RotationResult,
  type RotationRunner,
  type RotationRunnerOptions,
  type RotationStage,
  type RotationState,
  type RotationStore,
  type RotationValue,
  type Rotator,
  readLastRotation,
  readState,
} from './rotator.ts';
export { copyVersion } from './rotators/copy-version.ts';
export { type ExternalHookOptions, externalHook } from './rotators/external-hook.ts';
export { type HmacKeyringRotatorOptions, hmacKeyringRotator } from './rotators/hmac-keyring.ts';
export {
  type PgAlternatingUsersOptions,
  type PgConnection,
  type PgPasswordOptions,
  type PgQueryable,
  type PgSingleUserOptions,
  pgPassword,
} from './rotators/pg-password.ts';
export { ALPHABETS, type AlphabetName, type RandomSecretOptions, randomSecret } from './rotators/random-secret.ts';
export { type GcpRotationStore, type GcpRotationStoreOptions, gcpRotationStore } from './gcp-rotation-store.ts';
