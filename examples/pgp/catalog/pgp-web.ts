/**
 * PGP_WEB_v1: front end, no backend.
 * The front end has no backend and holds no secret: an empty declaration, listed so the catalog covers every service.
 */
import { defineSecrets } from 'keyshift';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_WEB_v1', role: 'front end, no backend' };

export const secrets = defineSecrets({});
