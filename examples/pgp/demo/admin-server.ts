/** The admin surface and dashboard over every demo service, on loopback. */
import { randomBytes } from 'node:crypto';
import { toNodeListener } from 'keyshift/adapters/node-http';
import { type AdminManager, createAdminHandler } from 'keyshift/admin';
import type { Logger } from 'keyshift';
import { listen } from './_http.ts';

export interface DemoAdmin {
  /** The dashboard page: paste `token` there. */
  readonly dashboardUrl: string;
  readonly statusUrl: string;
  /** A fresh bearer token for this run only. */
  readonly token: string;
  /** Admin requests served (the dashboard polls the status every 1.5 s). */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startAdminServer(managers: readonly AdminManager[], options: { logger: Logger; port?: number }): Promise<DemoAdmin> {
  const token = randomBytes(24).toString('base64url');
  let requests = 0;
  const handler = await createAdminHandler({
    managers,
    token,
    // Audit lines would scroll the live line away: count them instead.
    auditLog: () => {
      requests++;
    },
    alerts: { logger: options.logger },
  });
  const server = await listen(toNodeListener(handler), options.port ?? 0);
  return {
    dashboardUrl: `${server.url}admin/dashboard`,
    statusUrl: `${server.url}admin/status`,
    token,
    get requests() {
      return requests;
    },
    async close() {
      await handler.close();
      await server.close();
    },
  };
}
