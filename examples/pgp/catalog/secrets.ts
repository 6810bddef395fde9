/**
 * Every secret of the PGP_v1 platform, declared once. Services pick the entries they use
 * by name (`defineSecrets({ TP_FLAT_FEE, PGP_SPLIT2_URL })`), so a secret shared by ten
 * services has one name, one type and one category everywhere.
 *
 * Kinds follow the platform's table: SUCCESS_URL_SIGNING_KEY, TPS_HOSTPAY_SIGNING_KEY, the
 * wallet private key and the database password are static here (the two signing keys are
 * keyring keysets, rotated over restarts); JWT_SECRET_KEY and SIGNUP_SECRET_KEY are
 * dynamic keyring keysets; everything else is dynamic unless a service says
 * otherwise (the database credentials of NOTIFICATIONS and BROADCAST, see
 * static-database-credentials.ts). This module exports entries and nothing else, so
 * all-secrets.ts can declare the whole catalog with one spread.
 */
import { type EntryDeclaration, t } from 'keyshift';
import { hmacKeysetSchema } from 'keyshift/rotation/keyring';

const queueName = () => t.string({ pattern: /^[A-Za-z0-9-]{1,100}$/ });
const gcpRegion = () => t.string({ pattern: /^[a-z]+-[a-z]+\d$/ });
const apiKey = () => t.string({ minLength: 8, header: true });
/** A signing key held as an HMAC keyset (JSON, see keyshift/rotation/keyring): refused unless it parses as one. */
const keyset = () => t.string({ minLength: 32 });
const email = () => t.string({ pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/ });
const dbField = () => t.string({ minLength: 1, header: true });

// Service URLs (15): hot-reload for blue-green and canary. TTL 1 min.
export const PGP_ACCUMULATOR_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_BATCHPROCESSOR_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_BROADCAST_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY1_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY2_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY3_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_INVITE_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_MICROBATCHPROCESSOR_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_NOTIFICATIONS_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_ORCHESTRATOR_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_SERVER_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT1_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT2_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT3_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const PGP_WEBAPI_URL = { type: t.url(), category: 'service-url' } as const satisfies EntryDeclaration<string>;
export const BASE_URL = {
  type: t.url(),
  category: 'service-url',
  description: 'public base URL of the web app, used in e-mail links',
} as const satisfies EntryDeclaration<string>;

// API keys: hot-reload for rotation and provider failover. TTL 5 min.
export const CHANGENOW_API_KEY = {
  type: apiKey(),
  category: 'api-key',
  description: 'ChangeNow API key (the pilot): read on every call by the ChangeNow client',
} as const satisfies EntryDeclaration<string>;
export const ETHEREUM_RPC_URL_API = {
  type: t.url(),
  category: 'api-key',
  description: 'Ethereum JSON-RPC endpoint; its path carries the provider key, so status shows the origin only',
} as const satisfies EntryDeclaration<string>;
export const NOWPAYMENTS_API_KEY = { type: apiKey(), category: 'api-key' } as const satisfies EntryDeclaration<string>;
export const TELEGRAM_BOT_SECRET_NAME = {
  type: t.string({ minLength: 1 }),
  category: 'api-key',
} as const satisfies EntryDeclaration<string>;
export const TELEGRAM_BOT_USERNAME = {
  type: t.string({ pattern: /^[A-Za-z0-9_]{5,32}$/ }),
  category: 'api-key',
} as const satisfies EntryDeclaration<string>;
export const TELEGRAM_BOT_API_TOKEN = {
  type: t.string({ pattern: /^\d+:[A-Za-z0-9_-]{20,}$/ }),
  category: 'api-key',
  description: 'Telegram bot token: read on every call by the Telegram client',
} as const satisfies EntryDeclaration<string>;
export const SENDGRID_API_KEY = { type: apiKey(), category: 'api-key' } as const satisfies EntryDeclaration<string>;

// Private and signing keys. A new wallet key is a new wallet: static, never rotated by
// keyshift. A signing key is never swapped with get() (a new HMAC key would break every
// token in flight): each one is an HMAC keyset read through the keyring (rotation:
// 'keyring', the one rotation the policy's signing-key-static rule allows), so a rotation
// adds a key, promotes it, and the former primary keeps verifying through the overlap.
// A store still holding the plain string is converted once with
// `keyshift keyring-migrate NAME` (the plain value becomes the primary key k0, so every
// token signed before the migration still verifies).
export const HOST_WALLET_PRIVATE_KEY = {
  type: t.string({ pattern: /^(?:0x)?[0-9a-fA-F]{64}$/ }),
  category: 'private-key',
  static: true,
  description: 'the host wallet that sends ETH (PGP_HOSTPAY3_v1)',
} as const satisfies EntryDeclaration<string>;
// The security-critical services read these two once at ready() (static, as the platform
// table has them); they rotate through the keyring's stages over restarts: add a key
// verify-only, restart the holders, promote it, restart them again, retire the old key
// after the overlap (docs/runbook.md).
export const SUCCESS_URL_SIGNING_KEY = {
  type: keyset(),
  validate: hmacKeysetSchema,
  category: 'signing-key',
  static: true,
  rotation: 'keyring',
  description: 'HMAC keyset of the signed success URLs and inter-service tokens (static; rotated through the keyring over restarts)',
} as const satisfies EntryDeclaration<string>;
export const TPS_HOSTPAY_SIGNING_KEY = {
  type: keyset(),
  validate: hmacKeysetSchema,
  category: 'signing-key',
  static: true,
  rotation: 'keyring',
  description: 'HMAC keyset of the HOSTPAY trigger tokens (static; rotated through the keyring over restarts)',
} as const satisfies EntryDeclaration<string>;
export const JWT_SECRET_KEY = {
  type: keyset(),
  validate: hmacKeysetSchema,
  category: 'signing-key',
  rotation: 'keyring',
  description: 'HMAC keyset of the web sessions: hot-reloaded only through the HMAC keyring (the old key verifies during the overlap)',
} as const satisfies EntryDeclaration<string>;
export const SIGNUP_SECRET_KEY = {
  type: keyset(),
  validate: hmacKeysetSchema,
  category: 'signing-key',
  rotation: 'keyring',
  description: 'HMAC keyset of the sign-up confirmation tokens: hot-reloaded only through the HMAC keyring',
} as const satisfies EntryDeclaration<string>;

// Database credentials: a change needs a connection-pool restart.
export const CLOUD_SQL_CONNECTION_NAME = {
  type: t.string({ pattern: /^[a-z][a-z0-9-]*:[a-z]+-[a-z]+\d:[a-z0-9-]+$/ }),
  category: 'database-credential',
} as const satisfies EntryDeclaration<string>;
export const DATABASE_HOST_SECRET = { type: dbField(), category: 'database-credential' } as const satisfies EntryDeclaration<string>;
export const DATABASE_NAME_SECRET = { type: dbField(), category: 'database-credential' } as const satisfies EntryDeclaration<string>;
export const DATABASE_USER_SECRET = { type: dbField(), category: 'database-credential' } as const satisfies EntryDeclaration<string>;
export const DATABASE_PASSWORD_SECRET = {
  type: dbField(),
  category: 'database-credential',
  static: true,
  description: 'read once: the pool keeps it; rotate it through keyshift/rotation/pg (rotation: pg-pool)',
} as const satisfies EntryDeclaration<string>;

// Queue names (Cloud Tasks): hot-reload for queue migration and disaster recovery.
export const PGP_ACCUMULATOR_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_ACCUMULATOR_RESPONSE_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_BATCHPROCESSOR_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY1_BATCH_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY1_RESPONSE_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY2_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY3_PAYMENT_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY3_RETRY_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_HOSTPAY_TRIGGER_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_INVITE_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_ORCHESTRATOR_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT1_BATCH_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT1_ESTIMATE_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT1_RESPONSE_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT2_ESTIMATE_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT2_RESPONSE_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;
export const PGP_SPLIT3_SWAP_QUEUE = { type: queueName(), category: 'queue-name' } as const satisfies EntryDeclaration<string>;

// Webhook / IPN secrets: hot-reload, high priority.
export const NOWPAYMENTS_IPN_SECRET = { type: t.string({ minLength: 8 }), category: 'webhook-secret' } as const satisfies EntryDeclaration<string>;
export const NOWPAYMENTS_PAYOUT_API_KEY = { type: apiKey(), category: 'webhook-secret' } as const satisfies EntryDeclaration<string>;
export const NOWPAYMENTS_PAYOUT_EMAIL = { type: email(), category: 'webhook-secret' } as const satisfies EntryDeclaration<string>;
export const NOWPAYMENTS_PAYOUT_IPN_SECRET = {
  type: t.string({ minLength: 8 }),
  category: 'webhook-secret',
} as const satisfies EntryDeclaration<string>;

// Infrastructure: rare changes (disaster recovery). TTL 10 min.
export const CLOUD_TASKS_LOCATION = { type: gcpRegion(), category: 'infrastructure' } as const satisfies EntryDeclaration<string>;
export const CLOUD_TASKS_PROJECT_ID = {
  type: t.string({ pattern: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/ }),
  category: 'infrastructure',
} as const satisfies EntryDeclaration<string>;
export const GCP_PROJECT_ID = {
  type: t.string({ pattern: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/ }),
  category: 'infrastructure',
} as const satisfies EntryDeclaration<string>;
export const GCP_REGION = { type: gcpRegion(), category: 'infrastructure' } as const satisfies EntryDeclaration<string>;

// Application config: feature flags and fees. Money is decimal, never a binary float.
export const ALERTING_ENABLED = { type: t.bool(), category: 'app-config' } as const satisfies EntryDeclaration<boolean>;
export const TP_FLAT_FEE = {
  type: t.decimal({ min: 0, max: 100 }),
  category: 'app-config',
  description: 'platform fee, a percentage (3.5 is 3.5 %)',
} as const;
export const MINIMUM_PAYOUT_USD = { type: t.decimal({ min: 0 }), category: 'app-config' } as const;
export const MICRO_BATCH_THRESHOLD_USD = {
  type: t.decimal({ min: 0 }),
  category: 'app-config',
  description: 'pending payouts are converted in one batch once they reach this many USD',
} as const;
export const BATCH_PAYOUT_WINDOW_HOURS = { type: t.int({ min: 1 }), category: 'app-config' } as const satisfies EntryDeclaration<number>;
export const SLACK_ALERT_WEBHOOK = {
  type: t.url({ protocols: ['https:'] }),
  category: 'app-config',
  optional: true,
  secret: true,
  description: 'Slack incoming webhook for alerts; absent means no Slack alerts',
} as const satisfies EntryDeclaration<string>;
export const SUBSCRIPTION_CHECK_INTERVAL = {
  type: t.duration({ unit: 's', minMs: 1_000 }),
  category: 'app-config',
  description: 'how often subscriptions are checked; a bare number is seconds',
} as const satisfies EntryDeclaration<number>;
export const PAYMENT_MIN_TOLERANCE = {
  type: t.float({ min: 0, max: 1 }),
  category: 'app-config',
  description: 'a payment is accepted at this fraction of the expected amount',
} as const satisfies EntryDeclaration<number>;
export const PAYMENT_FALLBACK_TOLERANCE = {
  type: t.float({ min: 0, max: 1 }),
  category: 'app-config',
  description: 'the fraction accepted when the exchange rate could not be checked',
} as const satisfies EntryDeclaration<number>;
export const BROADCAST_AUTO_INTERVAL = {
  type: t.duration({ unit: 'h', minMs: 60_000 }),
  category: 'app-config',
  description: 'time between automatic broadcasts; a bare number is hours',
} as const satisfies EntryDeclaration<number>;
export const BROADCAST_MANUAL_INTERVAL = {
  type: t.duration({ unit: 'h', minMs: 60_000 }),
  category: 'app-config',
  description: 'minimum time between manual broadcasts; a bare number is hours',
} as const satisfies EntryDeclaration<number>;
export const HOST_WALLET_USDT_ADDRESS = {
  type: t.string({ pattern: /^0x[0-9a-fA-F]{40}$/ }),
  category: 'app-config',
  description: 'the public address payouts are collected on (not a secret; the private key is)',
} as const satisfies EntryDeclaration<string>;
export const FROM_EMAIL = { type: email(), category: 'app-config' } as const satisfies EntryDeclaration<string>;
export const FROM_NAME = { type: t.string({ minLength: 1, maxLength: 100 }), category: 'app-config' } as const satisfies EntryDeclaration<string>;
export const CORS_ORIGIN = {
  type: t.string({ pattern: /^https?:\/\/[^/\s]+$/ }),
  category: 'app-config',
  description: 'the one origin the web API answers (scheme and host, no path)',
} as const satisfies EntryDeclaration<string>;
