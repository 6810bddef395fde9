/**
 * Obviously fake values for every secret of the catalog, each valid for its type: the
 * demo seeds its local store with them, the tests feed them to a memory source. Keys
 * are random per call so no two runs share one. Adding a secret to catalog/secrets.ts
 * without a value here is a type error.
 */
import { randomBytes } from 'node:crypto';
import { createKeyset, serializeKeyset } from 'keyshift/rotation/keyring';
import type * as Catalog from '../catalog/secrets.ts';

export type CatalogSecretName = keyof typeof Catalog;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** A signing key as the catalog holds it: an HMAC keyset with one random primary key. */
const keyset = () => serializeKeyset(createKeyset({ now: Date.now() }));
const url = (name: string) => `https://${name.toLowerCase().replaceAll('_', '-')}-demo.a.run.app/`;
const queue = (name: string) => `${name.toLowerCase().replaceAll('_', '-')}-demo`;

export function dummyValues(): Record<CatalogSecretName, string> {
  return {
    PGP_ACCUMULATOR_URL: url('pgp_accumulator'),
    PGP_BATCHPROCESSOR_URL: url('pgp_batchprocessor'),
    PGP_BROADCAST_URL: url('pgp_broadcast'),
    PGP_HOSTPAY1_URL: url('pgp_hostpay1'),
    PGP_HOSTPAY2_URL: url('pgp_hostpay2'),
    PGP_HOSTPAY3_URL: url('pgp_hostpay3'),
    PGP_INVITE_URL: url('pgp_invite'),
    PGP_MICROBATCHPROCESSOR_URL: url('pgp_microbatchprocessor'),
    PGP_NOTIFICATIONS_URL: url('pgp_notifications'),
    PGP_ORCHESTRATOR_URL: url('pgp_orchestrator'),
    PGP_SERVER_URL: url('pgp_server'),
    PGP_SPLIT1_URL: url('pgp_split1'),
    PGP_SPLIT2_URL: url('pgp_split2'),
    PGP_SPLIT3_URL: url('pgp_split3'),
    PGP_WEBAPI_URL: url('pgp_webapi'),
    BASE_URL: 'https://www.pgp-demo.example/',

    CHANGENOW_API_KEY: `cn_demo_${hex(16)}`,
    ETHEREUM_RPC_URL_API: `https://eth-rpc.example/v3/demo${hex(8)}`,
    NOWPAYMENTS_API_KEY: `np_demo_${hex(12)}`,
    TELEGRAM_BOT_SECRET_NAME: 'TELEGRAM_BOT_API_TOKEN',
    TELEGRAM_BOT_USERNAME: 'pgp_demo_bot',
    TELEGRAM_BOT_API_TOKEN: `1000000001:DEMO${hex(16)}`,
    SENDGRID_API_KEY: `SG.demo.${hex(16)}`,

    HOST_WALLET_PRIVATE_KEY: `0x${hex(32)}`,
    SUCCESS_URL_SIGNING_KEY: keyset(),
    TPS_HOSTPAY_SIGNING_KEY: keyset(),
    JWT_SECRET_KEY: keyset(),
    SIGNUP_SECRET_KEY: keyset(),

    CLOUD_SQL_CONNECTION_NAME: 'pgp-demo:us-central1:pgp-demo-db',
    DATABASE_HOST_SECRET: 'db.pgp-demo.internal',
    DATABASE_NAME_SECRET: 'pgp_demo',
    DATABASE_USER_SECRET: 'pgp_demo_app',
    DATABASE_PASSWORD_SECRET: `demo-${hex(12)}`,

    PGP_ACCUMULATOR_QUEUE: queue('pgp_accumulator_queue'),
    PGP_ACCUMULATOR_RESPONSE_QUEUE: queue('pgp_accumulator_response_queue'),
    PGP_BATCHPROCESSOR_QUEUE: queue('pgp_batchprocessor_queue'),
    PGP_HOSTPAY1_BATCH_QUEUE: queue('pgp_hostpay1_batch_queue'),
    PGP_HOSTPAY1_RESPONSE_QUEUE: queue('pgp_hostpay1_response_queue'),
    PGP_HOSTPAY2_QUEUE: queue('pgp_hostpay2_queue'),
    PGP_HOSTPAY3_PAYMENT_QUEUE: queue('pgp_hostpay3_payment_queue'),
    PGP_HOSTPAY3_RETRY_QUEUE: queue('pgp_hostpay3_retry_queue'),
    PGP_HOSTPAY_TRIGGER_QUEUE: queue('pgp_hostpay_trigger_queue'),
    PGP_INVITE_QUEUE: queue('pgp_invite_queue'),
    PGP_ORCHESTRATOR_QUEUE: queue('pgp_orchestrator_queue'),
    PGP_SPLIT1_BATCH_QUEUE: queue('pgp_split1_batch_queue'),
    PGP_SPLIT1_ESTIMATE_QUEUE: queue('pgp_split1_estimate_queue'),
    PGP_SPLIT1_RESPONSE_QUEUE: queue('pgp_split1_response_queue'),
    PGP_SPLIT2_ESTIMATE_QUEUE: queue('pgp_split2_estimate_queue'),
    PGP_SPLIT2_RESPONSE_QUEUE: queue('pgp_split2_response_queue'),
    PGP_SPLIT3_SWAP_QUEUE: queue('pgp_split3_swap_queue'),

    NOWPAYMENTS_IPN_SECRET: hex(16),
    NOWPAYMENTS_PAYOUT_API_KEY: `np_payout_demo_${hex(12)}`,
    NOWPAYMENTS_PAYOUT_EMAIL: 'payouts@pgp-demo.example',
    NOWPAYMENTS_PAYOUT_IPN_SECRET: hex(16),

    CLOUD_TASKS_LOCATION: 'us-central1',
    CLOUD_TASKS_PROJECT_ID: 'pgp-demo',
    GCP_PROJECT_ID: 'pgp-demo',
    GCP_REGION: 'us-central1',

    ALERTING_ENABLED: 'true',
    TP_FLAT_FEE: '3.5',
    MINIMUM_PAYOUT_USD: '25.00',
    MICRO_BATCH_THRESHOLD_USD: '20.00',
    BATCH_PAYOUT_WINDOW_HOURS: '48',
    SLACK_ALERT_WEBHOOK: 'https://hooks.slack.example/services/DEMO',
    SUBSCRIPTION_CHECK_INTERVAL: '60',
    PAYMENT_MIN_TOLERANCE: '0.5',
    PAYMENT_FALLBACK_TOLERANCE: '0.75',
    BROADCAST_AUTO_INTERVAL: '24',
    BROADCAST_MANUAL_INTERVAL: '5',
    HOST_WALLET_USDT_ADDRESS: `0x${hex(20)}`,
    FROM_EMAIL: 'noreply@pgp-demo.example',
    FROM_NAME: 'PGP demo',
    CORS_ORIGIN: 'https://www.pgp-demo.example',
  };
}
