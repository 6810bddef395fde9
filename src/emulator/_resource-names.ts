/**
 * Parsing and formatting of Secret Manager resource names
 * (`projects/{p}`, `projects/{p}/secrets/{s}`, `projects/{p}/secrets/{s}/versions/{v}`).
 * A name that does not parse is INVALID_ARGUMENT, as the real service answers.
 */
import { PROJECT_ID, SECRET_ID, VERSION_ID } from '../gcp/resource-names.ts';
import { invalidArgument } from './_status.ts';

export interface SecretName {
  project: string;
  secret: string;
}

export interface VersionName extends SecretName {
  /** `latest`, an alias, or a version number as a decimal string. */
  version: string;
}

export const secretPath = (n: SecretName): string => `projects/${n.project}/secrets/${n.secret}`;
export const versionPath = (n: SecretName, version: number | string): string =>
  `${secretPath(n)}/versions/${version}`;

function parts(name: unknown, what: string, length: number): string[] {
  const p = typeof name === 'string' ? name.split('/') : [];
  if (p.length !== length || p[0] !== 'projects' || !PROJECT_ID.test(p[1] ?? '')) {
    throw invalidArgument(`Invalid ${what} name [${typeof name === 'string' ? name.slice(0, 300) : ''}].`);
  }
  return p;
}

/** `projects/{p}` */
export function parseParent(name: unknown): { project: string } {
  return { project: parts(name, 'parent', 2)[1]! };
}

/** `projects/{p}/secrets/{s}` */
export function parseSecretName(name: unknown): SecretName {
  const p = parts(name, 'secret', 4);
  if (p[2] !== 'secrets' || !SECRET_ID.test(p[3]!)) throw invalidArgument(`Invalid secret name [${name}].`);
  return { project: p[1]!, secret: p[3]! };
}

/** `projects/{p}/secrets/{s}/versions/{v}` */
export function parseVersionName(name: unknown): VersionName {
  const p = parts(name, 'secret version', 6);
  if (p[2] !== 'secrets' || !SECRET_ID.test(p[3]!) || p[4] !== 'versions' || !VERSION_ID.test(p[5]!)) {
    throw invalidArgument(`Invalid secret version name [${name}].`);
  }
  return { project: p[1]!, secret: p[3]!, version: p[5]! };
}

/** Checks a new secret id (CreateSecret's `secret_id`). */
export function checkSecretId(id: unknown): string {
  if (typeof id !== 'string' || !SECRET_ID.test(id)) {
    throw invalidArgument('Invalid secret_id: it must match [A-Za-z0-9_-]{1,255}.');
  }
  return id;
}
