/**
 * The shared-token check of a Pub/Sub push endpoint: the token comes as the push URL's
 * `?token=` or as `Authorization: Bearer`, and is compared in constant time by
 * `createTokenAuth`. Both push endpoints (value notifications in
 * `sources/gcp-pubsub-push.ts`, rotation reminders in `rotation/staged/_rotate-push.ts`)
 * use this one check.
 */
import { createTokenAuth } from './token-auth.ts';

export type PushTokenVerdict = { ok: true } | { ok: false; status: 401 | 403; error: string };

/** Builds the check; throws a KS_ERR_INVALID_DECLARATION when the token is shorter than 16 characters. */
export function createPushTokenCheck(token: string): (request: Request) => PushTokenVerdict {
  const auth = createTokenAuth(token);
  return (request) => {
    const query = new URL(request.url).searchParams.get('token');
    const verdict = auth.check(query === null ? request.headers.get('authorization') : `Bearer ${query}`);
    if (verdict.ok) return { ok: true };
    return verdict.status === 403 ? { ok: false, status: 403, error: 'push credentials are wrong' } : { ok: false, status: 401, error: 'push credentials are missing' };
  };
}
