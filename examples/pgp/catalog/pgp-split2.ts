/**
 * PGP_SPLIT2_v1: ChangeNow estimates (the pilot).
 * The platform table names the key and "4 queue/URL names"; these four are the queue and URL it answers SPLIT1 and BATCHPROCESSOR on.
 */
import { defineSecrets } from 'keyshift';
import {
  CHANGENOW_API_KEY,
  PGP_BATCHPROCESSOR_QUEUE,
  PGP_BATCHPROCESSOR_URL,
  PGP_SPLIT1_URL,
  PGP_SPLIT2_RESPONSE_QUEUE,
  SUCCESS_URL_SIGNING_KEY,
} from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_SPLIT2_v1', role: 'ChangeNow estimates (the pilot)' };

export const secrets = defineSecrets({
  // hot-reloadable
  CHANGENOW_API_KEY,
  PGP_SPLIT2_RESPONSE_QUEUE,
  PGP_SPLIT1_URL,
  PGP_BATCHPROCESSOR_QUEUE,
  PGP_BATCHPROCESSOR_URL,
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
});
