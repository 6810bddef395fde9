/**
 * The demo's canary fleet: PGP_HOSTPAY2 scaled out to several instances, each a node:http
 * server with its own keyshift manager and its own instance id (as Cloud Run instances of
 * one service would be), on a ChangeNow account of their own. Their key,
 * CHANGENOW_CANARY_API_KEY, is declared with an adoption policy (docs/adoption.md): a new
 * version reaches a slice of the instances first, and the application tells keyshift when
 * the key fails (`reportFailure` on a 401), so a bad key halts itself.
 *
 * The key is a separate entry (and a separate ChangeNow stand-in) so that the canary and
 * the platform's rotations of CHANGENOW_API_KEY, which have no bake, do not mix.
 */
import { withSnapshot } from 'keyshift/adapters/node-http';
import { type AdoptionPolicy, createKeyshift, defineSecrets, type Logger } from 'keyshift';
import { localStore } from 'keyshift/sources/local-store';
import { CHANGENOW_API_KEY } from '../catalog/secrets.ts';
import { changeNowClient } from '../clients/changenow-client.ts';
import { ProviderError } from '../clients/provider-error.ts';
import { handle, type Listening, listen, sendJson } from './_http.ts';

export const CANARY_ENTRY = 'CHANGENOW_CANARY_API_KEY' as const;

export function canarySecrets(policy: AdoptionPolicy) {
  return defineSecrets({
    CHANGENOW_CANARY_API_KEY: {
      ...CHANGENOW_API_KEY,
      description: 'ChangeNow API key of the canary fleet (its own account): rolled out in slices',
      adoption: policy,
    },
  });
}

function startManager(dir: string, instanceId: string, policy: AdoptionPolicy, logger: Logger | false) {
  return createKeyshift(canarySecrets(policy), { source: localStore({ dir }), name: `PGP_HOSTPAY2_v1/${instanceId}`, instanceId, logger });
}

export type CanaryManager = ReturnType<typeof startManager>;

export interface CanaryInstance {
  readonly id: string;
  readonly ks: CanaryManager;
  readonly url: string;
}

export interface CanaryFleet {
  readonly instances: readonly CanaryInstance[];
  close(): Promise<void>;
}

export interface CanaryFleetOptions {
  /** The local store directory. */
  dir: string;
  /** One instance per id. */
  instanceIds: readonly string[];
  policy: AdoptionPolicy;
  /** The canary account's ChangeNow API root. */
  changeNowUrl: string;
  logger: Logger | false;
}

/**
 * GET /status?id=...: asks ChangeNow with the instance's key. A 401 is the failure the
 * application attributes to the key: it reports it, and keyshift counts it against the
 * version while it bakes.
 */
function statusListener(ks: CanaryManager, changeNowUrl: string) {
  const changeNow = changeNowClient({
    secrets: { get: () => ks.get(CANARY_ENTRY), refresh: () => ks.refresh(CANARY_ENTRY) },
    baseUrl: changeNowUrl,
    refreshOnUnauthorized: false,
  });
  return handle(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const id = url.searchParams.get('id') ?? '';
    if (req.method !== 'GET' || url.pathname !== '/status') return sendJson(res, 404, { error: 'not found' });
    if (!/^[\w-]{1,64}$/.test(id)) return sendJson(res, 400, { error: 'id is required' });
    try {
      const { status } = await changeNow.exchangeStatus(id);
      sendJson(res, 200, { id, status });
    } catch (error) {
      if (error instanceof ProviderError && error.status === 401) ks.reportFailure(CANARY_ENTRY);
      throw error;
    }
  });
}

export async function startCanaryFleet(options: CanaryFleetOptions): Promise<CanaryFleet> {
  const managers: CanaryManager[] = [];
  const servers: Listening[] = [];
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(managers.map((ks) => ks.close()));
  };
  try {
    const instances: CanaryInstance[] = [];
    for (const id of options.instanceIds) {
      const ks = startManager(options.dir, id, options.policy, options.logger);
      managers.push(ks);
      const server = await listen(withSnapshot(ks, statusListener(ks, options.changeNowUrl)));
      servers.push(server);
      instances.push({ id, ks, url: server.url });
    }
    await Promise.all(managers.map((ks) => ks.ready()));
    return { instances, close };
  } catch (error) {
    await close();
    throw error;
  }
}
