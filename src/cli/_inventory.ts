/**
 * The inventory of a service catalog: every secret once, the services that use it,
 * static or dynamic in each, its TTL, and the policy verdict. Value-free by
 * construction: it reads declarations, never a store.
 */
import { type Declaration, resolveEntry } from '../core/define-secrets.ts';
import { DEFAULT_POLICY, findViolation, type PolicyRule } from '../core/policy.ts';
import type { Category, RotationKind } from '../types.ts';
import { type LoadFailure, loadModules } from './_inventory-load.ts';

/** How one service (or the catalog) declares a secret. */
export interface InventoryUse {
  /** The service's name; undefined for a catalog-only declaration. */
  service: string | undefined;
  /** The entry name in that declaration (differs from the secret when `key` is set). */
  entry: string;
  kind: 'static' | 'dynamic' | 'unknown';
  ttlMs: number | undefined;
  rotation: RotationKind | undefined;
}

/** A declaration that breaks the policy or the catalog's conventions. */
export interface InventoryProblem {
  service: string;
  /** The secret (entry) concerned, when there is one. */
  secret: string | undefined;
  /** A policy rule id, or 'consistent-declaration', 'duplicate-service', 'convention', 'invalid-declaration', 'load-error'. */
  rule: string;
  message: string;
  file: string;
}

export interface InventoryRow {
  /** The secret's name in the store. */
  name: string;
  category: Category | 'unknown';
  /** The codec kind: string, url, decimal... */
  type: string;
  /** Wrapped in Secret<T> (never shown, never logged). */
  secret: boolean;
  description: string | undefined;
  /** One per service using it; catalog-only declarations are not listed here. */
  uses: InventoryUse[];
  /** Declared in a `catalog` module (known even if no service uses it). */
  inCatalog: boolean;
  problems: InventoryProblem[];
}

export interface Inventory {
  services: { name: string; role: string; file: string; entries: number }[];
  rows: InventoryRow[];
  problems: InventoryProblem[];
}

export interface InventoryOptions {
  /** Rules every declaration is checked against. Default DEFAULT_POLICY. */
  policy?: readonly PolicyRule[];
}

/** Loads every declaration module under `root` and builds its inventory. */
export async function buildInventory(root: string, options: InventoryOptions = {}): Promise<Inventory> {
  const policy = options.policy ?? DEFAULT_POLICY;
  const { modules, failures } = await loadModules(root);
  const rows = new Map<string, InventoryRow & { shapes: Map<string, string> }>();
  const services: Inventory['services'] = [];
  const problems: InventoryProblem[] = failures.map(problemOf);
  const seen = new Map<string, string>();

  const rowFor = (name: string) => {
    let row = rows.get(name);
    if (!row) {
      row = { name, category: 'unknown', type: 'unknown', secret: true, description: undefined, uses: [], inCatalog: false, problems: [], shapes: new Map() };
      rows.set(name, row);
    }
    return row;
  };

  const add = (declaration: Declaration, service: string | undefined, file: string) => {
    for (const [entryName, decl] of Object.entries(declaration)) {
      const info = resolveEntry(entryName, decl);
      const row = rowFor(info.key);
      const owner = service ?? 'catalog';
      row.shapes.set(owner, `${info.type} ${info.category}${info.secret ? ' secret' : ''}`);
      if (row.category === 'unknown') Object.assign(row, { category: info.category, type: info.type, secret: info.secret });
      row.description ??= info.description;
      if (service === undefined) row.inCatalog = true;
      else row.uses.push({ service, entry: entryName, kind: info.kind, ttlMs: info.ttlMs, rotation: info.rotation });
      const violation = findViolation(entryName, decl, policy);
      if (violation) problems.push({ service: owner, secret: entryName, rule: violation.rule.id, message: violation.message, file });
    }
  };

  for (const mod of modules) {
    if (mod.catalog) add(mod.catalog, undefined, mod.file);
    if (!mod.service || !mod.secrets) continue;
    const { name, role } = mod.service;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      const message = `service ${name} is declared twice (${earlier} and ${mod.file})`;
      problems.push({ service: name, secret: undefined, rule: 'duplicate-service', message, file: mod.file });
      continue;
    }
    seen.set(name, mod.file);
    services.push({ name, role, file: mod.file, entries: Object.keys(mod.secrets).length });
    add(mod.secrets, name, mod.file);
  }

  for (const failure of failures) {
    if (failure.entry === undefined) continue;
    rowFor(failure.entry).uses.push({ service: failure.service, entry: failure.entry, kind: 'unknown', ttlMs: undefined, rotation: undefined });
  }

  for (const row of rows.values()) {
    const shapes = new Set(row.shapes.values());
    if (shapes.size > 1) {
      const how = [...row.shapes].map(([owner, shape]) => `${owner}: ${shape}`).join('; ');
      problems.push({
        service: [...row.shapes.keys()].join(', '),
        secret: row.name,
        rule: 'consistent-declaration',
        message: `declared with different types or categories (${how}); share one declaration`,
        file: '',
      });
    }
  }

  for (const problem of problems) {
    if (problem.secret !== undefined) rowFor(rows.has(problem.secret) ? problem.secret : keyOf(rows, problem.secret)).problems.push(problem);
  }
  const sorted = [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
  return {
    services: services.sort((a, b) => a.name.localeCompare(b.name)),
    rows: sorted.map(({ shapes: _shapes, ...row }) => row),
    problems,
  };
}

function problemOf(failure: LoadFailure): InventoryProblem {
  return { service: failure.service, secret: failure.entry, rule: failure.rule, message: failure.message, file: failure.file };
}

/** The row whose uses name `entry` (an entry declared under another store key). */
function keyOf(rows: Map<string, InventoryRow>, entry: string): string {
  for (const row of rows.values()) if (row.uses.some((u) => u.entry === entry)) return row.name;
  return entry;
}
