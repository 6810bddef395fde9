/**
 * Secret Manager's resource names and ids, as the source, the Pub/Sub notifications,
 * the rotation store and the emulator all read them: one pattern of each.
 */

/** Secret ids: Secret Manager's own rule (and the local store's). */
export const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
/** Project ids, project numbers and domain-scoped ids (`example.com:proj`). */
export const PROJECT_ID = /^[A-Za-z0-9.:-]{1,100}$/;
/** `latest`, a version number, or an alias (letters first, so never a number). */
export const VERSION_ID = /^(latest|[1-9][0-9]{0,15}|[A-Za-z][A-Za-z0-9_-]{0,62})$/;
/** Aliases, as UpdateSecret accepts them. */
export const ALIAS = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/** `projects/{p}/secrets/{s}` (or `projects/{p}/locations/{l}/secrets/{s}`), as notifications name a secret. */
export const SECRET_RESOURCE = /^projects\/[^/\s]{1,100}\/(?:locations\/[^/\s]{1,100}\/)?secrets\/[A-Za-z0-9_-]{1,255}$/;
/** `.../secrets/{s}/versions/{v}`, as notifications name a version. */
export const VERSION_RESOURCE = /^projects\/[^/\s]{1,100}\/(?:locations\/[^/\s]{1,100}\/)?secrets\/[A-Za-z0-9_-]{1,255}\/versions\/[A-Za-z0-9_-]{1,64}$/;

/** The secret id segment of a resource name (with or without `/versions/{v}`). */
export function secretIdOf(resource: string): string | undefined {
  return /\/secrets\/([A-Za-z0-9_-]{1,255})(?:\/versions\/[^/]+)?$/.exec(resource)?.[1];
}
