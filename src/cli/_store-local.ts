/** The local store as a CLI store: the store itself, unchanged. */
import { openLocalStore } from '../local-store/open-local-store.ts';
import type { CliIo } from './_command.ts';
import type { CliStore } from './_cli-store.ts';

export async function openLocalCliStore(dir: string, io: CliIo, create: boolean): Promise<CliStore> {
  const store = await openLocalStore({ dir, create, env: io.env });
  return {
    kind: 'local',
    where: dir,
    put: (name, value, options) => store.put(name, value, options),
    access: (name, version) => store.access(name, version),
    versions: (name) => store.versions(name),
    list: () => store.list(),
    getSecret: (name) => store.getSecret(name),
    enableVersion: (name, version) => store.enableVersion(name, version),
    disableVersion: (name, version) => store.disableVersion(name, version),
    destroyVersion: (name, version) => store.destroyVersion(name, version),
    rotation: store,
    close: () => store.close(),
  };
}
