/**
 * An HTTP handler for a Pub/Sub push subscription on Secret Manager's notification
 * topic: a web-standard `(Request) => Promise<Response>` (mount it with any adapter).
 * It authenticates the push, validates the envelope, drops redeliveries by message id
 * and tells the source which entries changed; the core then refreshes them at once.
 *
 *   const source = gcpSecretManager({ project });
 *   const push = gcpPubSubPushHandler({ source, token: process.env.PUSH_TOKEN });
 *   // or Pub/Sub's own OIDC token (authenticated push subscription):
 *   gcpPubSubPushHandler({ source, oidc: { audience: url, serviceAccountEmail } });
 *
 * Status codes: 204 handled (also duplicates, unknown secrets, harmless and unknown
 * event types, so Pub/Sub stops redelivering them); 400 malformed envelope; 401 no credentials
 * or an OIDC token that fails its check; 403 wrong shared token or `verify` refused; 405 not
 * POST; 413 too large; 415 not JSON; 500 when the invalidation itself threw or the OIDC check
 * could not run (no google-auth-library, Google's certificates unreachable): Pub/Sub redelivers.
 */
import { DEFAULT_PUSH_MAX_BODY_BYTES } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { createPushOidcCheck, type PushOidcOptions } from '../http/push-oidc.ts';
import { createPushTokenCheck } from '../http/push-token.ts';
import { classifySecretEvent, createNotificationSink, type NotificationTargetOptions, type SecretEvent } from './_gcp-secret-events.ts';

export type { PushOidcOptions } from '../http/push-oidc.ts';
export type { InvalidationTarget, SecretEvent } from './_gcp-secret-events.ts';

/** This part's defaults and limits. */
export {
  DEFAULT_PUSH_DEDUPE_SIZE,
  DEFAULT_PUSH_MAX_BODY_BYTES,
} from '../constants.ts';

/** `source` or `onInvalidate` (+ `entriesFor`), `dedupeSize`: see NotificationTargetOptions. */
export interface GcpPubSubPushOptions extends NotificationTargetOptions {
  /**
   * Shared secret, accepted as the push URL's `?token=` or as `Authorization: Bearer`.
   * Compared in constant time. At least one of `token`, `oidc` and `verify` is required.
   * The URL's token ends up in request logs: prefer `oidc`.
   */
  token?: string;
  /**
   * The OIDC token of an authenticated push subscription (`--push-auth-service-account`):
   * audience, Google issuer, the expected service account `email` and `email_verified`,
   * and (mode `verify`, the default) the signature with google-auth-library, an optional
   * peer. Mode `cloud-run-verified` checks the claims only, for a Cloud Run service that
   * requires authentication (Cloud Run verified the token and removed its signature).
   */
  oidc?: PushOidcOptions;
  /**
   * Custom authentication. Resolves true to accept. Every check given (`token`, `oidc`,
   * `verify`) must pass. Default: none.
   */
  verify?: (request: Request) => boolean | Promise<boolean>;
  /** Told why a push was refused (401/403): a reason, and the OIDC token's email when it had one; never a credential. */
  onRejected?: (rejection: PushRejection) => void;
  /** Told when the OIDC check could not run (KS_ERR_PEER_MISSING, or Google's certificates unreachable); the push gets a 500. */
  onError?: (error: KeyshiftError) => void;
  /** Told about a message of an event type keyshift does not know (answered 204, nothing done). Default: ignored. */
  onIgnored?: (event: SecretEvent) => void;
  /** Largest body accepted. Default 64 KiB (DEFAULT_PUSH_MAX_BODY_BYTES); notifications are about 1 KiB. */
  maxBodyBytes?: number;
}

/** A refused push: the status answered and why (no credential in it). */
export interface PushRejection {
  status: 401 | 403;
  reason: string;
  /** The OIDC token's `email` claim, when it could be read. */
  email?: string;
}

function reply(status: number, error?: string): Response {
  if (error === undefined) return new Response(null, { status });
  return Response.json({ error }, { status });
}

/** Reads at most `max` bytes; undefined when the body is larger. */
async function readLimited(request: Request, max: number): Promise<string | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > max) return undefined;
  if (request.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

interface Envelope {
  message: { attributes?: unknown; messageId?: unknown; message_id?: unknown; data?: unknown };
  subscription?: unknown;
}

function parseEnvelope(text: string): Envelope | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'the body is not a push envelope';
  const message = (parsed as { message?: unknown }).message;
  if (typeof message !== 'object' || message === null) return 'message is missing';
  const { data } = message as Envelope['message'];
  if (data !== undefined && typeof data !== 'string') return 'message.data must be a base64 string';
  return parsed as Envelope;
}

export function gcpPubSubPushHandler(options: GcpPubSubPushOptions): (request: Request) => Promise<Response> {
  const sink = createNotificationSink(options, 'gcpPubSubPushHandler');
  if (options.token === undefined && options.verify === undefined && options.oidc === undefined) {
    throw new KeyshiftError(
      ErrorCodes.INVALID_DECLARATION,
      'gcpPubSubPushHandler: a push endpoint must be authenticated: give token, oidc or verify',
    );
  }
  if (options.token !== undefined && options.token.length < 16) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'gcpPubSubPushHandler: token must be at least 16 characters');
  }
  const checkToken = options.token === undefined ? undefined : createPushTokenCheck(options.token);
  const checkOidc = options.oidc === undefined ? undefined : createPushOidcCheck(options.oidc);
  const refuse = (rejection: PushRejection): Response => {
    options.onRejected?.(rejection);
    return reply(rejection.status, rejection.reason);
  };
  const maxBody = options.maxBodyBytes ?? DEFAULT_PUSH_MAX_BODY_BYTES;

  return async (request) => {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    if (checkToken !== undefined) {
      const verdict = checkToken(request);
      if (!verdict.ok) return refuse({ status: verdict.status, reason: verdict.error });
    }
    if (checkOidc !== undefined) {
      const verdict = await checkOidc(request);
      if (verdict.ok === 'unavailable') {
        options.onError?.(verdict.error);
        return reply(500, 'the OIDC check could not run; Pub/Sub will redeliver');
      }
      if (!verdict.ok) return refuse({ status: verdict.status, reason: verdict.reason, ...(verdict.email === undefined ? {} : { email: verdict.email }) });
    }
    if (options.verify !== undefined && !(await options.verify(request))) return refuse({ status: 403, reason: 'push verification failed' });
    const type = request.headers.get('content-type');
    if (type !== null && !/^application\/json\b/i.test(type)) return reply(415, 'expected application/json');
    const text = await readLimited(request, maxBody);
    if (text === undefined) return reply(413, `the body is over ${maxBody} bytes`);
    const envelope = parseEnvelope(text);
    if (typeof envelope === 'string') return reply(400, envelope);
    const messageId = envelope.message.messageId ?? envelope.message.message_id;
    if (typeof messageId !== 'string' || messageId === '' || messageId.length > 200) {
      return reply(400, 'message.messageId is missing');
    }
    const classified = classifySecretEvent(envelope.message.attributes, messageId);
    if (classified.kind === 'invalid') return reply(400, classified.reason);
    if (classified.kind === 'unknown') {
      // 2xx: a 400 would make Pub/Sub redeliver it for up to 7 days
      options.onIgnored?.(classified.event);
      return reply(204);
    }
    if ((await sink(classified)) === 'failed') return reply(500, 'the invalidation failed; Pub/Sub will redeliver');
    return reply(204);
  };
}
