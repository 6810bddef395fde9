/** This part's defaults and limits. */
export {
  DEFAULT_KEYRING_PROPAGATION_TIMEOUT_MS,
  DEFAULT_PG_PASSWORD_LENGTH,
  DEFAULT_RANDOM_SECRET_LENGTH,
  DEFAULT_ROTATION_ADOPTION_MARGIN_MS,
  DEFAULT_ROTATION_CHECK_INTERVAL_MS,
  DEFAULT_ROTATION_JITTER,
  DEFAULT_ROTATION_LEASE_MS,
  DEFAULT_ROTATION_RETRY_MS,
  DEFAULT_VERIFY_ROTATION_DEADLINE_MS,
  DEFAULT_VERIFY_ROTATION_POLL_MS,
} from '../constants.ts';
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
} from './keyring/hmac-keyring.ts';
export {
  createRotatingPool,
  type RotatingPool,
  type RotatingPoolEvents,
  type RotatingPoolOptions,
  type RotatingPoolStatus,
} from './pg/pg-pool.ts';
export {
  failedRequestsOf,
  type InstanceReport,
  type RotationReport,
  servedVersions,
  type VerifyRotationOptions,
  verifyRotation,
} from './staged/rotation-verifier.ts';
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
} from './staged/rotation-scheduler.ts';
export {
  type AdoptionVerdict,
  createRotationRunner,
  type LastRotation,
  type RotationAdoption,
  type RotationCondition,
  type RotationFailure,
  type RotationRunner,
  type RotationRunnerOptions,
  type RotationStage,
  type RotationState,
  type RotationStore,
  readLastRotation,
  readState,
} from './staged/rotation-runner.ts';
export type { RotationEvents, RotationOutcome, RotationResult } from './staged/rotation-result.ts';
export type { FinishedContext, PendingContext, RotationContext, RotationValue, Rotator } from './staged/rotator.ts';
export { copyVersion } from './staged/rotators/copy-version.ts';
export { type ExternalHookOptions, externalHook } from './staged/rotators/external-hook.ts';
export { isKeyset, keysetFromPlainSecret, MIGRATED_KID } from './keyring/keyset-from-plain.ts';
export { type HmacKeyringRotatorOptions, hmacKeyringRotator } from './staged/rotators/keyring-rotator.ts';
export {
  type PgAlternatingUsersOptions,
  type PgConnection,
  type PgPasswordOptions,
  type PgQueryable,
  type PgSingleUserOptions,
  pgPassword,
} from './staged/rotators/pg-password.ts';
export { ALPHABETS, type AlphabetName, type RandomSecretOptions, randomSecret } from './staged/rotators/random-secret.ts';
export { type GcpRotationStore, type GcpRotationStoreOptions, gcpRotationStore } from './staged/gcp-rotation-store.ts';
export {
  AWS_CURRENT,
  AWS_PENDING,
  AWS_PREVIOUS,
  type AwsRotationStore,
  type AwsRotationStoreOptions,
  type AwsSecretState,
  type AwsVersion,
  awsRotationStore,
} from './staged/aws-rotation-store.ts';
export {
  AWS_CLAIM_STAGE,
  type AwsLastRotation,
  type AwsRotationRunner,
  type AwsRotationRunnerOptions,
  type AwsRotationState,
  type AwsRotationStatus,
  createAwsRotationRunner,
} from './staged/aws-rotation-runner.ts';
