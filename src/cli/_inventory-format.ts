/** Renders an Inventory as a terminal table, Markdown or JSON. */
import type { Inventory, InventoryProblem, InventoryRow, InventoryUse } from './_inventory.ts';
import { formatTable } from './_output.ts';

export type InventoryFormat = 'table' | 'markdown' | 'json';

/** SERVICES last: it is the one long column. */
const HEADERS = ['SECRET', 'CATEGORY', 'TYPE', 'TTL', 'VERDICT', 'SERVICES'] as const;

/** 60000 → "1m", 300000 → "5m", 90000 → "90s". */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

function kindLabel(use: InventoryUse): string {
  if (use.kind !== 'dynamic') return use.kind;
  return use.rotation === undefined ? 'dynamic' : `dynamic via ${use.rotation}`;
}

/** "dynamic: A, B; static: C", grouped by kind in first-seen order. */
function servicesCell(row: InventoryRow): string {
  if (row.uses.length === 0) return row.inCatalog ? '(catalog only: no service uses it)' : '-';
  const groups = new Map<string, string[]>();
  for (const use of row.uses) {
    const label = kindLabel(use);
    const name = use.entry === row.name ? String(use.service) : `${use.service} as ${use.entry}`;
    groups.set(label, [...(groups.get(label) ?? []), name]);
  }
  return [...groups].map(([label, names]) => `${label}: ${names.join(', ')}`).join('; ');
}

function ttlCell(row: InventoryRow): string {
  const ttls = [...new Set(row.uses.map((u) => u.ttlMs).filter((ms): ms is number => ms !== undefined))].sort((a, b) => a - b);
  return ttls.length === 0 ? '-' : ttls.map(formatDuration).join(', ');
}

function verdictCell(row: InventoryRow): string {
  if (row.problems.length === 0) return 'ok';
  return row.problems.map((p) => `FAIL ${p.rule} (${p.service})`).join('; ');
}

function cells(row: InventoryRow): string[] {
  return [row.name, row.category, row.type, ttlCell(row), verdictCell(row), servicesCell(row)];
}

/** One line per problem: service, secret, rule and why. */
export function problemLine(problem: InventoryProblem): string {
  const where = problem.file ? ` [${problem.file}]` : '';
  const secret = problem.secret === undefined ? '' : `${problem.secret} `;
  return `${problem.service}: ${secret}breaks ${problem.rule}: ${problem.message}${where}`;
}

function summary(inventory: Inventory): string {
  const violations = inventory.problems.length;
  const services = inventory.services.length;
  return `${inventory.rows.length} secrets, ${services} services, ${violations === 0 ? 'no policy violations' : `${violations} problem${violations === 1 ? '' : 's'}`}`;
}

function table(inventory: Inventory): string {
  return `${formatTable(HEADERS, inventory.rows.map(cells))}\n${summary(inventory)}`;
}

function markdown(inventory: Inventory): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  const head = `| ${HEADERS.map((h) => h.toLowerCase()).join(' | ')} |`;
  const rule = `|${HEADERS.map(() => '---').join('|')}|`;
  const body = inventory.rows.map((row) => {
    const [name, ...rest] = cells(row).map(escapeCell);
    return `| \`${name}\` | ${rest.join(' | ')} |`;
  });
  const services = inventory.services.map((s) => `| \`${s.name}\` | ${escapeCell(s.role)} | ${s.entries} | \`${s.file}\` |`);
  return [
    '## Secrets',
    '',
    head,
    rule,
    ...body,
    '',
    '## Services',
    '',
    '| service | role | entries | file |',
    '|---|---|---|---|',
    ...services,
    '',
    summary(inventory),
  ].join('\n');
}

export function formatInventory(inventory: Inventory, format: InventoryFormat): string {
  if (format === 'json') return JSON.stringify(inventory, null, 2);
  return format === 'markdown' ? markdown(inventory) : table(inventory);
}
