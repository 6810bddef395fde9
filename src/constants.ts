/** Defaults, in one place. Units are in the names. */

/** Per-call store deadline; the Google client's own default lets a call hang 600 s. */
export const DEFAULT_FETCH_TIMEOUT_MS = 3_000;
/** ready() gives up after this long and names the entries still pending. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
/**
 * At most this many store calls in flight during ready(). 96 loads the reference
 * platform's 77 secrets in one round trip (64 took two: 166 ms through gRPC at 50 ms
 * latency; 16 would take five) and stays under HTTP/2's default of 100 concurrent
 * streams, so one gRPC channel carries them without queueing. 77 calls per start is
 * far below Secret Manager's 1,500 access calls/s quota.
 */
export const DEFAULT_STARTUP_CONCURRENCY = 96;
/** Failure backoff: first delay, factor, cap and jitter (±). */
export const DEFAULT_BACKOFF_INITIAL_MS = 1_000;
export const DEFAULT_BACKOFF_FACTOR = 2;
export const DEFAULT_BACKOFF_MAX_MS = 30_000;
export const DEFAULT_BACKOFF_JITTER = 0.25;
/** Every TTL schedule is jittered by ±10 %. */
export const DEFAULT_TTL_JITTER = 0.1;
/** Forced refreshes of one entry closer together than this are coalesced (Azure's minimum). */
export const DEFAULT_MIN_REFRESH_INTERVAL_MS = 1_000;
/** Values larger than this are rejected (Secret Manager's own payload limit). */
export const DEFAULT_MAX_VALUE_BYTES = 64 * 1024;
/** Samples kept per entry for latency percentiles. */
export const LATENCY_SAMPLES = 128;

/** TTL per category, as the reference platform asks (5 min API keys, 1 min URLs and queues). */
export const DEFAULT_TTL_MS_BY_CATEGORY = {
  'api-key': 5 * 60_000,
  'webhook-secret': 5 * 60_000,
  'service-url': 60_000,
  'queue-name': 60_000,
  'app-config': 60_000,
  'database-credential': 5 * 60_000,
  infrastructure: 10 * 60_000,
  'signing-key': 5 * 60_000,
  'private-key': 5 * 60_000,
  other: 5 * 60_000,
} as const;

/** Alert thresholds from the reference platform. */
export const ALERT_FETCH_LATENCY_MS = 500;
export const ALERT_FAILURES = 3;
export const ALERT_FAILURE_WINDOW_MS = 5 * 60_000;

/** Cost model the reference platform's analysis uses (USD). */
export const GCP_ACCESS_COST_PER_10K = 0.03;

/** Local store: default directory (overridden by KEYSHIFT_STORE_DIR or `dir`). */
export const DEFAULT_LOCAL_STORE_DIR = '.keyshift/store';
/** Local store: how often a watcher polls the head file when fs.watch stays silent. */
export const DEFAULT_LOCAL_STORE_POLL_INTERVAL_MS = 100;
/** Local store: a writer gives up waiting for the store lock after this long. */
export const DEFAULT_LOCAL_STORE_LOCK_TIMEOUT_MS = 10_000;
/** Local store: a lock older than this is broken, whoever holds it (writers hold it for milliseconds). */
export const DEFAULT_LOCAL_STORE_LOCK_STALE_MS = 30_000;
/** Local store: change events kept in the head file for watchers in other processes. */
export const LOCAL_STORE_JOURNAL_SIZE = 256;

/** AWS Secrets Manager: the staging label read when neither versionStage nor versionId is given. */
export const DEFAULT_AWS_VERSION_STAGE = 'AWSCURRENT';
/** AWS Secrets Manager: BatchGetSecretValue takes at most 20 ids per call. */
export const AWS_BATCH_GET_MAX_IDS = 20;
/** AWS Secrets Manager: at most this many BatchGetSecretValue calls in flight (its quota is 100/s). */
export const AWS_BATCH_GET_CONCURRENCY = 4;

/** Project named by the Secret Manager emulator when none is configured. */
export const DEFAULT_EMULATOR_PROJECT = 'keyshift-local';
/** Port of `keyshift emulator` when --port is not given. */
export const DEFAULT_EMULATOR_PORT = 8095;

/** Admin surface: largest accepted request body (POST /admin/refresh). */
export const DEFAULT_ADMIN_MAX_BODY_BYTES = 16 * 1024;
/** Admin surface: most entry names one refresh may list. */
export const ADMIN_MAX_REFRESH_NAMES = 1_000;
/** Admin surface: an Authorization header longer than this is refused (431) before any comparison. */
export const ADMIN_MAX_AUTH_HEADER_BYTES = 4 * 1024;
/** Admin surface: the shortest admin token accepted at configuration time. */
export const ADMIN_MIN_TOKEN_LENGTH = 16;
/** Admin surface: failed auth attempts allowed per client address per window, then 429. */
export const DEFAULT_ADMIN_RATE_LIMIT_MAX_FAILURES = 10;
export const DEFAULT_ADMIN_RATE_LIMIT_WINDOW_MS = 60_000;
/** Admin surface: client addresses tracked by the rate limiter at most (oldest dropped first). */
export const ADMIN_RATE_LIMIT_MAX_CLIENTS = 10_000;
/** Alerts: a webhook delivery is abandoned after this long. */
export const DEFAULT_ALERT_WEBHOOK_TIMEOUT_MS = 5_000;
/** Alerts: webhook messages waiting for delivery at most (the oldest are dropped first). */
export const ALERT_WEBHOOK_QUEUE_SIZE = 100;
/** Cost panel: store accesses are projected from the rate observed over at most this window. */
export const USAGE_WINDOW_MS = 60 * 60_000;
/** Cost panel: the month a projection covers. */
export const USAGE_MONTH_MS = 30 * 24 * 60 * 60_000;
/** Port of `keyshift serve` when --port is not given. */
export const DEFAULT_ADMIN_PORT = 8787;
/** Pub/Sub push handler: message ids remembered to drop redeliveries. */
export const DEFAULT_PUSH_DEDUPE_SIZE = 10_000;
/** Pub/Sub push handler: largest body accepted (a Secret Manager notification is about 1 KiB). */
export const DEFAULT_PUSH_MAX_BODY_BYTES = 64 * 1024;

/** pg pool rotation: an old pool's clients still checked out this long after a swap are closed. */
export const DEFAULT_PG_DRAIN_TIMEOUT_MS = 30_000;
/** pg pool rotation: changes of the user and password entries closer together than this make one swap. */
export const DEFAULT_PG_SETTLE_MS = 50;
/** pg pool rotation: a call waits this long for a connection when poolConfig.connectionTimeoutMillis is unset. */
export const DEFAULT_PG_CONNECT_TIMEOUT_MS = 10_000;
/** pg pool rotation: retries of one call after an auth failure (the AWS JDBC wrapper's MAX_RETRY). */
export const PG_AUTH_MAX_RETRIES = 5;
/** pg pool rotation: failed credential checks allowed in any 60 s window (no tight loop against the server). */
export const PG_AUTH_MAX_ATTEMPTS_PER_MINUTE = 8;
/** pg pool rotation: consecutive failed credential checks before one alert fires. */
export const DEFAULT_PG_ALERT_AFTER_FAILURES = 2;
/** HMAC keyring: shortest key material accepted (RFC 7518 §3.2: at least the hash output). */
export const KEYRING_MIN_KEY_BYTES = 32;
/** HMAC keyring: at most one store refresh per this long on unknown key ids (F13; jose's cooldown). */
export const DEFAULT_KEYRING_UNKNOWN_KID_COOLDOWN_MS = 30_000;
/** HMAC keyring: lifetime of a token when sign() is not told otherwise. */
export const DEFAULT_KEYRING_TOKEN_TTL_MS = 15 * 60_000;
/** HMAC keyring: clock skew tolerated between instances. */
export const DEFAULT_KEYRING_CLOCK_SKEW_MS = 60_000;
/** HMAC keyring: longer tokens are malformed before any parsing. */
export const KEYRING_MAX_TOKEN_BYTES = 8 * 1024;
/** verify-rotation: an instance that does not serve the new version within this long has failed. */
export const DEFAULT_VERIFY_ROTATION_DEADLINE_MS = 30_000;
/** verify-rotation: how often each instance's status is polled. */
export const DEFAULT_VERIFY_ROTATION_POLL_MS = 50;
/** After a throttling answer (RESOURCE_EXHAUSTED, ThrottlingException) a retry waits at least this long, whatever the backoff and its jitter. */
export const THROTTLED_MIN_RETRY_MS = 1_000;
/** Staged rotation: a runner's claim on a rotation lasts this long unless renewed by its next stage (a crashed runner's rotation resumes after it). */
export const DEFAULT_ROTATION_LEASE_MS = 5 * 60_000;
/** Staged rotation with `adoption`: added to the entry's bake before the version counts as adopted (every instance must first see it: a notification, or a TTL). */
export const DEFAULT_ROTATION_ADOPTION_MARGIN_MS = 60_000;
/** Staged rotation: length of a generated random secret. 32 base64url characters carry 192 bits. */
export const DEFAULT_RANDOM_SECRET_LENGTH = 32;
/** Staged rotation: length of a generated PostgreSQL password (base62, about 238 bits). */
export const DEFAULT_PG_PASSWORD_LENGTH = 40;
/** Rotation scheduler: spread of each entry's rotateEveryMs (±), so a catalog's secrets do not all rotate at once. */
export const DEFAULT_ROTATION_JITTER = 0.1;
/** Rotation scheduler: how often due rotations and failed ones waiting for a retry are looked for. */
export const DEFAULT_ROTATION_CHECK_INTERVAL_MS = 60_000;
/** Rotation scheduler: a failed rotation is retried (from the stage it stopped at) no sooner than this. */
export const DEFAULT_ROTATION_RETRY_MS = 5 * 60_000;
/** HMAC keyring rotation: wait at most this long for every instance to serve the verify-only key. */
export const DEFAULT_KEYRING_PROPAGATION_TIMEOUT_MS = 60_000;
/** Secret Manager emulator: the soonest SECRET_ROTATE message it sends again for one secret. */
export const EMULATOR_MIN_ROTATION_PERIOD_MS = 100;

/** Notifications: the TTL entries rest at while heartbeats come back through the topic (12 h: 85 entries make about 5,100 access calls a month). */
export const DEFAULT_NOTIFICATION_SAFETY_TTL_MS = 12 * 60 * 60_000;
/** Notifications: with no heartbeat back for this long, the path is quiet and entries fall back to their own TTLs (3 missed heartbeats and a half). */
export const DEFAULT_NOTIFICATION_QUIET_AFTER_MS = 210_000;
/** Pub/Sub pull: a heartbeat goes through the notification topic this often. */
export const DEFAULT_PUBSUB_HEARTBEAT_INTERVAL_MS = 60_000;
/** Pub/Sub pull: a heartbeat publish is given up after this long (the client alone would retry for up to 10 min). */
export const DEFAULT_PUBSUB_HEARTBEAT_TIMEOUT_MS = 30_000;
/** Pub/Sub: the shortest expiration policy a subscription may have (1 day), the default of a per-instance subscription. */
export const PUBSUB_MIN_EXPIRATION_MS = 24 * 60 * 60_000;
/** Pub/Sub: the shortest message retention a subscription may have (10 min), the default of a per-instance subscription. */
export const PUBSUB_MIN_RETENTION_MS = 10 * 60_000;
/** Pub/Sub: the longest subscription filter accepted, in bytes. */
export const PUBSUB_FILTER_MAX_BYTES = 256;
/** Pub/Sub pull: close() gives up on deleting the per-instance subscription after this long (Cloud Run allows 10 s after SIGTERM). */
export const DEFAULT_PUBSUB_CLOSE_TIMEOUT_MS = 5_000;
/** Pub/Sub pull: a per-instance subscription that could not be created is tried again this often. */
export const DEFAULT_PUBSUB_SUBSCRIBE_RETRY_MS = 60_000;
