/**
 * PGP_HOSTPAY3_v1: security-critical, sends ETH.
 * Security-critical: sends ETH. The wallet key is static by policy (private-key-static); the RPC endpoint and the alert flag hot-reload.
 */
import { defineSecrets } from 'keyshift';
import { ALERTING_ENABLED, ETHEREUM_RPC_URL_API, HOST_WALLET_PRIVATE_KEY } from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_HOSTPAY3_v1', role: 'security-critical, sends ETH' };

export const secrets = defineSecrets({
  // hot-reloadable
  ETHEREUM_RPC_URL_API,
  ALERTING_ENABLED,
  // static: read once at ready()
  HOST_WALLET_PRIVATE_KEY,
});
