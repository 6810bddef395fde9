/**
 * The OIDC check of an authenticated Pub/Sub push subscription
 * (`--push-auth-service-account`): Pub/Sub signs a Google ID token for the push and sends
 * it as `Authorization: Bearer`. Two modes:
 *
 * - `verify` (default): the signature, expiry, issuer and audience are verified by Google's
 *   own `google-auth-library` (`OAuth2Client.verifyIdToken`, an optional peer loaded on the
 *   first push), then the `email` must be the expected service account and
 *   `email_verified` true.
 * - `cloud-run-verified`: on a Cloud Run service that requires authentication, Cloud Run
 *   has verified the token itself and removed its signature before the request reaches
 *   the container; a signature check would reject every push. Only the claims are checked
 *   (issuer, audience, expiry, email, email_verified). Safe only behind that check.
 *
 * A rejection carries a reason and the token's email (not secret); never the token:
 * google-auth-library's own messages quote the whole token, so they are mapped, not passed on.
 */
import { loadOptionalPeer } from '../_optional-peer.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

/** The issuers of Google-signed ID tokens. */
export const GOOGLE_ID_TOKEN_ISSUERS: readonly string[] = ['accounts.google.com', 'https://accounts.google.com'];
/** Where google-auth-library fetches Google's signing certificates (PEM) by default. */
export const GOOGLE_OIDC_CERTS_URL = 'https://www.googleapis.com/oauth2/v1/certs';
/** Clock skew allowed on `exp`/`iat` in the claims-only mode (google-auth-library's own). */
const CLOCK_SKEW_SECONDS = 300;

export interface PushOidcOptions {
  /**
   * The audience the push subscription puts in its token: `--push-auth-token-audience`,
   * or by default the push endpoint URL. Several are allowed.
   */
  audience: string | readonly string[];
  /** The service account the push subscription signs as (`--push-auth-service-account`). */
  serviceAccountEmail: string;
  /**
   * `verify` (default): keyshift verifies the signature with google-auth-library.
   * `cloud-run-verified`: Cloud Run (service deployed with `--no-allow-unauthenticated`)
   * verified it and stripped the signature; keyshift checks the claims only.
   */
  mode?: 'verify' | 'cloud-run-verified';
  /** `verify` mode: where Google's signing certificates are fetched. Default GOOGLE_OIDC_CERTS_URL. */
  certsUrl?: string;
}

/** Why a push was refused; `email` is the token's claim when it could be read (never the token). */
export interface PushOidcRejection {
  status: 401;
  reason: string;
  email?: string;
}

export type PushOidcVerdict = { ok: true; email: string } | ({ ok: false } & PushOidcRejection) | { ok: 'unavailable'; error: KeyshiftError };

interface Claims {
  iss?: unknown;
  aud?: unknown;
  exp?: unknown;
  iat?: unknown;
  email?: unknown;
  email_verified?: unknown;
}

/** The slice of google-auth-library this check uses. */
export interface OidcLibrary {
  OAuth2Client: new (options: {
    endpoints?: { oauth2FederatedSignonPemCertsUrl?: string };
    issuers?: string[];
  }) => {
    verifyIdToken(options: { idToken: string; audience: string[] }): Promise<{ getPayload(): Claims | undefined }>;
  };
}

const loadLibrary = (): Promise<OidcLibrary> =>
  loadOptionalPeer('google-auth-library', 'gcpPubSubPushHandler (oidc)', () => import('google-auth-library') as Promise<unknown> as Promise<OidcLibrary>);

/** google-auth-library's failure messages (which quote the token) as reasons that do not. */
function libraryReason(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/^Invalid token signature|^No pem found/.test(message)) return 'the token signature is not valid';
  if (/^Token used too late/.test(message)) return 'the token has expired';
  if (/^Token used too early/.test(message)) return 'the token is not valid yet';
  if (/^Expiration time too far/.test(message)) return 'the token expires too far in the future';
  if (/^Invalid issuer/.test(message)) return 'the token issuer is not Google';
  if (/^Wrong recipient/.test(message)) return 'the token audience is wrong';
  if (/^No (issue|expiration) time/.test(message)) return 'the token has no iat or exp';
  if (/^Wrong number of segments|^Can't parse/.test(message)) return 'the token is not a JWT';
  return 'the token could not be verified';
}

function decodeClaims(token: string): Claims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Claims) : undefined;
  } catch {
    return undefined;
  }
}

/** The claims checked in both modes after (or, under Cloud Run, instead of) the signature. */
function checkIdentity(claims: Claims, expected: string): PushOidcVerdict {
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  const reject = (reason: string): PushOidcVerdict => ({ ok: false, status: 401, reason, ...(email === undefined ? {} : { email }) });
  if (email === undefined) return reject('the token has no email claim');
  if (email.toLowerCase() !== expected.toLowerCase()) return reject('the token email is not the expected service account');
  if (claims.email_verified !== true && claims.email_verified !== 'true') return reject('the token email is not verified');
  return { ok: true, email };
}

/** The claims-only check of a token whose signature Cloud Run already verified. */
function checkClaims(claims: Claims, audiences: readonly string[], nowSeconds: number): string | undefined {
  if (typeof claims.iss !== 'string' || !GOOGLE_ID_TOKEN_ISSUERS.includes(claims.iss)) return 'the token issuer is not Google';
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => typeof a === 'string' && audiences.includes(a))) return 'the token audience is wrong';
  const exp = Number(claims.exp);
  if (!Number.isFinite(exp)) return 'the token has no iat or exp';
  if (nowSeconds > exp + CLOCK_SKEW_SECONDS) return 'the token has expired';
  return undefined;
}

/**
 * Builds the check. Throws KS_ERR_INVALID_DECLARATION on a bad configuration; the optional
 * peer is loaded on the first request (its absence is the `unavailable` verdict, a
 * KS_ERR_PEER_MISSING, so the push is answered 500 and redelivered once it is installed).
 */
export function createPushOidcCheck(
  options: PushOidcOptions,
  load: () => Promise<OidcLibrary> = loadLibrary,
): (request: Request) => Promise<PushOidcVerdict> {
  const audiences = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  const fail = (why: string): never => {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `gcpPubSubPushHandler: oidc.${why}`);
  };
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a === '')) fail('audience must be a non-empty string or list of strings');
  if (typeof options.serviceAccountEmail !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(options.serviceAccountEmail)) {
    fail('serviceAccountEmail must be the push subscription service account email');
  }
  const mode = options.mode ?? 'verify';
  if (mode !== 'verify' && mode !== 'cloud-run-verified') fail(`mode must be 'verify' or 'cloud-run-verified'`);

  type Client = InstanceType<OidcLibrary['OAuth2Client']>;
  let client: Promise<Client> | undefined;
  const getClient = (): Promise<Client> => {
    client ??= load().then(
      (lib) =>
        new lib.OAuth2Client({
          endpoints: { oauth2FederatedSignonPemCertsUrl: options.certsUrl ?? GOOGLE_OIDC_CERTS_URL },
          issuers: [...GOOGLE_ID_TOKEN_ISSUERS],
        }),
    );
    // a failed load is retried on the next push (the peer may be installed by then)
    client.catch(() => {
      client = undefined;
    });
    return client;
  };

  return async (request) => {
    const header = request.headers.get('authorization');
    if (header === null) return { ok: false, status: 401, reason: 'the Authorization header is missing' };
    const token = /^Bearer ([A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=+/-]*)$/.exec(header)?.[1];
    if (token === undefined) return { ok: false, status: 401, reason: 'the Authorization header is not a Bearer JWT' };
    if (mode === 'cloud-run-verified') {
      const claims = decodeClaims(token);
      if (claims === undefined) return { ok: false, status: 401, reason: 'the token is not a JWT' };
      const reason = checkClaims(claims, audiences, Date.now() / 1000);
      if (reason !== undefined) return { ok: false, status: 401, reason, ...(typeof claims.email === 'string' ? { email: claims.email } : {}) };
      return checkIdentity(claims, options.serviceAccountEmail);
    }
    let oauth: Client;
    try {
      oauth = await getClient();
    } catch (error) {
      const wrapped = error instanceof KeyshiftError ? error : new KeyshiftError(ErrorCodes.INTERNAL, 'gcpPubSubPushHandler: google-auth-library failed to load', { cause: error });
      return { ok: 'unavailable', error: wrapped };
    }
    let claims: Claims | undefined;
    try {
      claims = (await oauth.verifyIdToken({ idToken: token, audience: audiences })).getPayload();
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (message.startsWith('Failed to retrieve verification certificates')) {
        return {
          ok: 'unavailable',
          error: new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, "gcpPubSubPushHandler: Google's OIDC signing certificates could not be fetched"),
        };
      }
      const email = decodeClaims(token)?.email;
      return { ok: false, status: 401, reason: libraryReason(error), ...(typeof email === 'string' ? { email } : {}) };
    }
    if (claims === undefined) return { ok: false, status: 401, reason: 'the token has no claims' };
    return checkIdentity(claims, options.serviceAccountEmail);
  };
}
