/** PGP_BATCHPROCESSOR_v1: batch payouts. */
import { defineSecrets } from 'keyshift';
import { PGP_SPLIT1_BATCH_QUEUE, PGP_SPLIT1_URL, SUCCESS_URL_SIGNING_KEY, TPS_HOSTPAY_SIGNING_KEY } from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_BATCHPROCESSOR_v1', role: 'batch payouts' };

export const secrets = defineSecrets({
  // hot-reloadable
  PGP_SPLIT1_BATCH_QUEUE,
  PGP_SPLIT1_URL,
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
  TPS_HOSTPAY_SIGNING_KEY,
});
