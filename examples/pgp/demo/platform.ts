/**
 * Four PGP_v1 services on keyshift, each a real node:http server on loopback with its own
 * manager over the local store (as separate Cloud Run services would have): SPLIT1 calls
 * SPLIT2 at PGP_SPLIT2_URL; SPLIT2 (the pilot) and HOSTPAY2 call ChangeNow with
 * CHANGENOW_API_KEY; ACCUMULATOR routes payments from its URLs, queues and fee.
 */
import type { RequestListener } from 'node:http';
import { withSnapshot } from 'keyshift/adapters/node-http';
import type { AdminManager } from 'keyshift/admin';
import { createKeyshift, type Declaration, type Logger } from 'keyshift';
import type { LocalStore } from 'keyshift/local-store';
import { localStore } from 'keyshift/sources/local-store';
import * as accumulator from '../catalog/pgp-accumulator.ts';
import * as hostpay2 from '../catalog/pgp-hostpay2.ts';
import * as split1 from '../catalog/pgp-split1.ts';
import * as split2 from '../catalog/pgp-split2.ts';
import { changeNowClient } from '../clients/changenow-client.ts';
import { type Listening, listen } from './_http.ts';
import { accumulatorListener } from './accumulator-service.ts';
import { hostpay2Listener } from './hostpay2-service.ts';
import { split1Listener } from './split1-service.ts';
import { split2Listener } from './split2-service.ts';

export interface PlatformOptions {
  /** The store the services read (the demo's local store). */
  store: LocalStore;
  /** Where the ChangeNow client sends its calls (the stand-in's URL). */
  changeNowUrl: string;
  /** Receives the managers' warnings. */
  logger: Logger | false;
}

export interface RunningService {
  readonly name: string;
  readonly url: string;
}

export interface Platform {
  readonly services: {
    split1: RunningService;
    split2: RunningService;
    hostpay2: RunningService;
    accumulator: RunningService;
  };
  /** Every manager, for the admin server. */
  readonly managers: readonly AdminManager[];
  /** The managers holding CHANGENOW_API_KEY (SPLIT2 and HOSTPAY2). */
  readonly changeNowHolders: readonly AdminManager[];
  close(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  // One manager and one store client per service, as separate processes would have.
  const manager = <D extends Declaration>(mod: { service: { name: string }; secrets: D }) =>
    createKeyshift(mod.secrets, { source: localStore({ dir: options.store.dir }), name: mod.service.name, logger: options.logger });
  const ks = {
    split1: manager(split1),
    split2: manager(split2),
    hostpay2: manager(hostpay2),
    accumulator: manager(accumulator),
  };
  // The pilot pattern: the client gets the manager. refreshOnUnauthorized is off so that
  // any failed request shows; the push through the store must carry every rotation alone.
  const changeNow = (holder: typeof ks.split2 | typeof ks.hostpay2) =>
    changeNowClient({ secrets: holder, baseUrl: options.changeNowUrl, refreshOnUnauthorized: false });

  const servers: Listening[] = [];
  const serve = async (name: string, listener: RequestListener): Promise<RunningService> => {
    const server = await listen(listener);
    servers.push(server);
    return { name, url: server.url };
  };
  const services = {
    split1: await serve(split1.service.name, withSnapshot(ks.split1, split1Listener(ks.split1))),
    split2: await serve(split2.service.name, withSnapshot(ks.split2, split2Listener(ks.split2, changeNow(ks.split2)))),
    hostpay2: await serve(hostpay2.service.name, withSnapshot(ks.hostpay2, hostpay2Listener(ks.hostpay2, changeNow(ks.hostpay2)))),
    accumulator: await serve(accumulator.service.name, withSnapshot(ks.accumulator, accumulatorListener(ks.accumulator))),
  };
  // Tell the platform where its services live before they load: SPLIT1 reaches SPLIT2
  // through PGP_SPLIT2_URL, SPLIT2 replies to PGP_SPLIT1_URL.
  await options.store.put('PGP_SPLIT1_URL', services.split1.url);
  await options.store.put('PGP_SPLIT2_URL', services.split2.url);
  await options.store.put('PGP_HOSTPAY2_URL', services.hostpay2.url);
  await options.store.put('PGP_ACCUMULATOR_URL', services.accumulator.url);

  const all: AdminManager[] = [ks.split1, ks.split2, ks.hostpay2, ks.accumulator];
  await Promise.all([ks.split1.ready(), ks.split2.ready(), ks.hostpay2.ready(), ks.accumulator.ready()]);
  return {
    services,
    managers: all,
    changeNowHolders: [ks.split2, ks.hostpay2],
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await Promise.all([ks.split1.close(), ks.split2.close(), ks.hostpay2.close(), ks.accumulator.close()]);
    },
  };
}
