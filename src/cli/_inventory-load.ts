/**
 * Finds and imports the declaration modules under a directory for `keyshift inventory`.
 *
 * The convention: a module that exports `secrets` (a `defineSecrets()` result) is a
 * service, named by its `service = { name, role }` export or else after its file; a
 * module that exports `catalog` declares known secrets that no service has to use.
 * Anything else under the directory is ignored.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Declaration } from '../core/define-secrets.ts';

/** What a module said about itself. */
export interface LoadedModule {
  /** Path relative to the inventory root. */
  readonly file: string;
  readonly service?: { name: string; role: string };
  readonly secrets?: Declaration;
  readonly catalog?: Declaration;
}

/** A module that could not be used; `entry` and `rule` are set for a policy refusal at import. */
export interface LoadFailure {
  readonly file: string;
  /** The service's name (read from the file's text when its import threw), or the file name. */
  readonly service: string;
  readonly entry: string | undefined;
  readonly rule: string;
  readonly message: string;
}

const MODULE_FILE = /\.(?:[mc]?ts|[mc]?js)$/;
const SKIPPED_FILE = /\.d\.[mc]?ts$|\.(?:test|spec)\.[mc]?[jt]s$/;
const SERVICE_NAME = /export\s+const\s+service\b[\s\S]*?\bname\s*:\s*['"`]([^'"`]+)['"`]/;

/** Every module file under `root`, sorted; skips node_modules, dot folders, tests and .d.ts. */
export async function findModules(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const items = await readdir(dir, { withFileTypes: true });
    for (const item of items.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, item.name);
      if (item.isDirectory()) {
        if (item.name !== 'node_modules' && !item.name.startsWith('.')) await walk(path);
      } else if (MODULE_FILE.test(item.name) && !SKIPPED_FILE.test(item.name)) found.push(path);
    }
  };
  await walk(root);
  return found;
}

/** Imports a module; `.ts` files load through tsx when the runtime cannot import them itself. */
async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: unknown })?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    const tsx = await import('tsx/esm/api').catch(() => undefined);
    if (!tsx) throw new Error(`${basename(path)} is TypeScript: install tsx (npm i -D tsx) so keyshift can load it`);
    return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
}

function isDeclaration(value: unknown): value is Declaration {
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).every((entry) => typeof (entry as { type?: { decode?: unknown } })?.type?.decode === 'function');
}

/** A thrown value's facts, duck-typed: the module may have loaded its own copy of keyshift. */
function describeFailure(error: unknown): { entry: string | undefined; rule: string; message: string } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const details = (e.details ?? {}) as Record<string, unknown>;
  const entry = typeof e.entry === 'string' ? e.entry : undefined;
  const message = (typeof e.message === 'string' ? e.message : String(error)).slice(0, 300);
  if (e.code === 'KS_ERR_POLICY') {
    return { entry, rule: String(e.rule ?? details.rule ?? 'policy'), message: message.replace(/^entry \S+ breaks policy rule "[^"]*": /, '') };
  }
  if (e.code === 'KS_ERR_INVALID_DECLARATION') return { entry, rule: 'invalid-declaration', message };
  const kind = typeof e.name === 'string' ? e.name : 'Error';
  return { entry, rule: 'load-error', message: `${kind}: ${message}` };
}

/** Imports every module under `root`; a module that throws becomes a LoadFailure, never a crash. */
export async function loadModules(root: string): Promise<{ modules: LoadedModule[]; failures: LoadFailure[] }> {
  const modules: LoadedModule[] = [];
  const failures: LoadFailure[] = [];
  for (const path of await findModules(root)) {
    const file = relative(root, path) || basename(path);
    let exports: Record<string, unknown>;
    try {
      exports = await importModule(path);
    } catch (error) {
      const text = await readFile(path, 'utf8').catch(() => '');
      failures.push({ file, service: SERVICE_NAME.exec(text)?.[1] ?? file.replace(MODULE_FILE, ''), ...describeFailure(error) });
      continue;
    }
    const { service, secrets, catalog } = exports;
    if (secrets === undefined && catalog === undefined) continue;
    const named = service as { name?: unknown; role?: unknown } | undefined;
    // Without a `service` export, a module's secrets belong to a service named after its file.
    const serviceName = typeof named?.name === 'string' ? named.name : secrets === undefined ? undefined : file.replace(MODULE_FILE, '');
    const fail = (rule: string, message: string) => failures.push({ file, service: serviceName ?? file, entry: undefined, rule, message });
    if (secrets !== undefined && !isDeclaration(secrets)) fail('convention', '`secrets` must be the result of defineSecrets()');
    else if (catalog !== undefined && !isDeclaration(catalog)) fail('convention', '`catalog` must be the result of defineSecrets()');
    else {
      modules.push({
        file,
        ...(serviceName === undefined ? {} : { service: { name: serviceName, role: typeof named?.role === 'string' ? named.role : '' } }),
        ...(secrets === undefined ? {} : { secrets }),
        ...(catalog === undefined ? {} : { catalog }),
      });
    }
  }
  return { modules, failures };
}
