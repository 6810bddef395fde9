/**
 * Field checks the real Secret Manager applies (resources.proto), answered with
 * INVALID_ARGUMENT: labels, annotations, version aliases. Messages name the key
 * (cut short), never a value.
 */
import { ALIAS } from '../gcp/resource-names.ts';
import { invalidArgument } from './_status.ts';

/** Label keys: a lowercase letter first, then lowercase letters, digits, _ and -; 1-63 characters. */
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
/** Label values: 0-63 lowercase letters, digits, _ and -. */
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
/** No more than 64 labels on a resource. */
export const MAX_LABELS = 64;
/** Annotation keys: 1-63 characters, alphanumeric at both ends. */
const ANNOTATION_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** The total size of annotation keys and values must be less than 16 KiB. */
const MAX_ANNOTATIONS_BYTES = 16 * 1024;
/** Names the service reserves: `latest` is a version selector, `NEW` is refused as an alias. */
const RESERVED_ALIASES = new Set(['latest', 'NEW']);
/** No more than 50 aliases on a secret. */
export const MAX_ALIASES = 50;

const shown = (key: string): string => key.slice(0, 70);

export function checkLabels(labels: Record<string, string> | undefined): Record<string, string> {
  const entries = Object.entries(labels ?? {});
  if (entries.length > MAX_LABELS) throw invalidArgument(`No more than ${MAX_LABELS} labels can be assigned to a secret.`);
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) {
      throw invalidArgument(
        `Invalid label key [${shown(key)}]: it must start with a lowercase letter and hold 1-63 lowercase letters, digits, _ or -.`,
      );
    }
    if (!LABEL_VALUE.test(value)) throw invalidArgument(`Invalid value for label [${shown(key)}]: 0-63 lowercase letters, digits, _ or -.`);
  }
  return { ...labels };
}

export function checkAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (!ANNOTATION_KEY.test(key)) throw invalidArgument(`Invalid annotation key [${shown(key)}].`);
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (bytes >= MAX_ANNOTATIONS_BYTES) throw invalidArgument('The total size of annotation keys and values must be less than 16KiB.');
  return { ...annotations };
}

/** Version aliases as UpdateSecret takes them: names checked, each naming an existing version (1..latest). */
export function checkAliases(given: Record<string, string | number> | undefined, latest: number): Record<string, number> {
  const entries = Object.entries(given ?? {});
  if (entries.length > MAX_ALIASES) throw invalidArgument(`No more than ${MAX_ALIASES} aliases can be assigned to a secret.`);
  const aliases: Record<string, number> = {};
  for (const [alias, version] of entries) {
    if (RESERVED_ALIASES.has(alias) || !ALIAS.test(alias)) throw invalidArgument(`Invalid version alias [${shown(alias)}].`);
    const n = Number(version);
    if (!Number.isSafeInteger(n) || n < 1 || n > latest) {
      throw invalidArgument(`Version alias [${shown(alias)}] names version ${String(version).slice(0, 20)}, which does not exist.`);
    }
    aliases[alias] = n;
  }
  return aliases;
}
