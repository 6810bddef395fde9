/**
 * The push handler's OIDC check with Google's own google-auth-library, offline: tokens are
 * signed here with a generated RSA key, and the library fetches the matching public key
 * from a loopback stand-in of Google's certificate endpoint (the PEM map it serves at
 * https://www.googleapis.com/oauth2/v1/certs). The Cloud Run mode gets tokens whose
 * signature was replaced as Cloud Run does after verifying them.
 */
import * as assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { createPushOidcCheck } from '../../src/http/push-oidc.ts';
import { gcpPubSubPushHandler, type PushRejection } from '../../src/sources/gcp-pubsub-push.ts';

const AUDIENCE = 'https://keyshift-svc-abc123-ew.a.run.app/_keyshift/pubsub';
const PUSH_SA = 'pubsub-push@pgp-live.iam.gserviceaccount.com';
const KID = 'local-kid-1';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Claims {
  iss?: string;
  aud?: string;
  email?: string;
  email_verified?: boolean;
  iat?: number;
  exp?: number;
  sub?: string;
}

function claims(overrides: Partial<Claims> = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'https://accounts.google.com', aud: AUDIENCE, email: PUSH_SA, email_verified: true, sub: '1234567890', iat: now, exp: now + 3600, ...overrides };
}

function sign(payload: Claims, key: KeyObject = privateKey, kid = KID): string {
  const signed = `${b64url({ alg: 'RS256', kid, typ: 'JWT' })}.${b64url(payload)}`;
  const signer = createSign('RSA-SHA256');
  signer.update(signed);
  return `${signed}.${signer.sign(key).toString('base64url')}`;
}

/** What Cloud Run forwards to the container after it verified the token itself. */
const stripped = (payload: Claims): string => `${b64url({ alg: 'RS256', kid: KID, typ: 'JWT' })}.${b64url(payload)}.SIGNATURE_REMOVED_BY_GOOGLE`;

function push(authorization?: string, messageId = String(Math.random())): Request {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const body = {
    message: {
      attributes: { eventType: 'SECRET_VERSION_ADD', secretId: 'projects/p/secrets/API_KEY', versionId: 'projects/p/secrets/API_KEY/versions/2' },
      data: Buffer.from('{}').toString('base64'),
      messageId,
    },
    subscription: 'projects/p/subscriptions/keyshift',
  };
  return new Request(AUDIENCE, { method: 'POST', headers, body: JSON.stringify(body) });
}

describe('gcpPubSubPushHandler oidc (google-auth-library, mode verify)', () => {
  let server: Server;
  let certsUrl: string;
  let certFetches = 0;

  before(async () => {
    server = createServer((_req, res) => {
      certFetches++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
      res.end(JSON.stringify({ [KID]: publicKey.export({ type: 'spki', format: 'pem' }) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    certsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v1/certs`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function setup() {
    const invalidated: string[][] = [];
    const rejections: PushRejection[] = [];
    const errors: KeyshiftError[] = [];
    const handler = gcpPubSubPushHandler({
      onInvalidate: (names) => {
        invalidated.push([...names]);
      },
      oidc: { audience: AUDIENCE, serviceAccountEmail: PUSH_SA, certsUrl },
      onRejected: (r) => rejections.push(r),
      onError: (e) => errors.push(e),
    });
    return { handler, invalidated, rejections, errors };
  }

  it('accepts a token signed by the certificate endpoint key for the audience and service account', async () => {
    const { handler, invalidated, rejections } = setup();
    const res = await handler(push(`Bearer ${sign(claims())}`));
    assert.equal(res.status, 204);
    assert.deepEqual(invalidated, [['API_KEY']]);
    assert.deepEqual(rejections, []);
    assert.ok(certFetches >= 1, 'google-auth-library fetched the certificates from the given endpoint');
    // also the bare issuer form Google uses
    const again = await handler(push(`Bearer ${sign(claims({ iss: 'accounts.google.com' }))}`));
    assert.equal(again.status, 204);
  });

  const cases: { name: string; auth: () => string | undefined; reason: RegExp; email?: string }[] = [
    { name: 'missing header', auth: () => undefined, reason: /Authorization header is missing/ },
    { name: 'not a bearer JWT', auth: () => 'Basic dXNlcjpwYXNz', reason: /not a Bearer JWT/ },
    { name: 'wrong audience', auth: () => `Bearer ${sign(claims({ aud: 'https://other.example/push' }))}`, reason: /audience is wrong/, email: PUSH_SA },
    { name: 'wrong email', auth: () => `Bearer ${sign(claims({ email: 'intruder@evil.iam.gserviceaccount.com' }))}`, reason: /not the expected service account/, email: 'intruder@evil.iam.gserviceaccount.com' },
    { name: 'email_verified false', auth: () => `Bearer ${sign(claims({ email_verified: false }))}`, reason: /email is not verified/, email: PUSH_SA },
    {
      name: 'expired',
      auth: () => {
        const past = Math.floor(Date.now() / 1000) - 7200;
        return `Bearer ${sign(claims({ iat: past - 3600, exp: past }))}`;
      },
      reason: /has expired/,
      email: PUSH_SA,
    },
    { name: 'bad signature (another key)', auth: () => `Bearer ${sign(claims(), other.privateKey)}`, reason: /signature is not valid/, email: PUSH_SA },
    { name: 'unknown key id', auth: () => `Bearer ${sign(claims(), privateKey, 'not-a-google-kid')}`, reason: /signature is not valid/, email: PUSH_SA },
    { name: 'issuer not Google', auth: () => `Bearer ${sign(claims({ iss: 'https://evil.example' }))}`, reason: /issuer is not Google/, email: PUSH_SA },
    { name: 'stripped signature (Cloud Run form) in verify mode', auth: () => `Bearer ${stripped(claims())}`, reason: /signature is not valid/, email: PUSH_SA },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}: 401, a clear reason, never the token`, async () => {
      const { handler, invalidated, rejections } = setup();
      const auth = c.auth();
      const res = await handler(push(auth));
      assert.equal(res.status, 401);
      const body = (await res.json()) as { error: string };
      assert.match(body.error, c.reason);
      assert.deepEqual(invalidated, []);
      assert.equal(rejections.length, 1);
      assert.match(rejections[0]!.reason, c.reason);
      assert.equal(rejections[0]!.email, c.email);
      const token = auth?.split(' ')[1];
      if (token !== undefined) {
        const said = JSON.stringify({ body, rejections });
        for (const part of token.split('.')) assert.ok(!said.includes(part), 'no part of the token is repeated');
      }
    });
  }

  it("Google's certificates unreachable: 500 (Pub/Sub redelivers) and an error event, not a 401", async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const errors: KeyshiftError[] = [];
    const handler = gcpPubSubPushHandler({
      onInvalidate: () => assert.fail('nothing is invalidated'),
      oidc: { audience: AUDIENCE, serviceAccountEmail: PUSH_SA, certsUrl: `http://127.0.0.1:${port}/certs` },
      onError: (e) => errors.push(e),
    });
    const res = await handler(push(`Bearer ${sign(claims())}`));
    assert.equal(res.status, 500);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, ErrorCodes.SOURCE_UNAVAILABLE);
    assert.match(errors[0]!.message, /signing certificates could not be fetched/);
  });
});

describe('gcpPubSubPushHandler oidc (mode cloud-run-verified)', () => {
  function setup() {
    const invalidated: string[][] = [];
    const rejections: PushRejection[] = [];
    const handler = gcpPubSubPushHandler({
      onInvalidate: (names) => {
        invalidated.push([...names]);
      },
      oidc: { audience: [AUDIENCE, 'https://custom-audience.example'], serviceAccountEmail: PUSH_SA, mode: 'cloud-run-verified' },
      onRejected: (r) => rejections.push(r),
    });
    return { handler, invalidated, rejections };
  }

  it('accepts the token Cloud Run forwards with its signature removed (no certificate fetch, no peer needed)', async () => {
    const { handler, invalidated } = setup();
    const res = await handler(push(`Bearer ${stripped(claims())}`));
    assert.equal(res.status, 204);
    assert.deepEqual(invalidated, [['API_KEY']]);
    const custom = await handler(push(`Bearer ${stripped(claims({ aud: 'https://custom-audience.example' }))}`));
    assert.equal(custom.status, 204);
  });

  for (const [name, token, reason] of [
    ['wrong email', stripped(claims({ email: 'someone-else@p.iam.gserviceaccount.com' })), /not the expected service account/],
    ['email_verified false', stripped(claims({ email_verified: false })), /email is not verified/],
    ['wrong audience', stripped(claims({ aud: 'https://other.example' })), /audience is wrong/],
    ['issuer not Google', stripped(claims({ iss: 'https://evil.example' })), /issuer is not Google/],
    ['expired', stripped(claims({ exp: Math.floor(Date.now() / 1000) - 7200 })), /has expired/],
    ['not a JWT payload', 'aaaa.bbbb.SIGNATURE_REMOVED_BY_GOOGLE', /not a JWT/],
  ] as const) {
    it(`still checks the claims: ${name} is refused with 401`, async () => {
      const { handler, invalidated, rejections } = setup();
      const res = await handler(push(`Bearer ${token}`));
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as { error: string }).error, reason);
      assert.deepEqual(invalidated, []);
      assert.match(rejections[0]?.reason ?? '', reason);
    });
  }

  it('a missing header is refused', async () => {
    const { handler, rejections } = setup();
    assert.equal((await handler(push())).status, 401);
    assert.match(rejections[0]?.reason ?? '', /missing/);
  });
});

describe('gcpPubSubPushHandler oidc: configuration and the optional peer', () => {
  it('a bad oidc configuration is a KS_ERR_INVALID_DECLARATION naming the field', () => {
    const bad = [
      [{ audience: '', serviceAccountEmail: PUSH_SA }, /oidc\.audience/],
      [{ audience: [], serviceAccountEmail: PUSH_SA }, /oidc\.audience/],
      [{ audience: AUDIENCE, serviceAccountEmail: 'not-an-email' }, /oidc\.serviceAccountEmail/],
      [{ audience: AUDIENCE, serviceAccountEmail: PUSH_SA, mode: 'trust-me' }, /oidc\.mode/],
    ] as const;
    for (const [oidc, message] of bad) {
      assert.throws(
        () => gcpPubSubPushHandler({ onInvalidate: () => {}, oidc: oidc as never }),
        (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.INVALID_DECLARATION && message.test(e.message),
      );
    }
  });

  it('google-auth-library missing: KS_ERR_PEER_MISSING with the install command, the push answered 500, loaded again next time', async () => {
    let attempts = 0;
    const check = createPushOidcCheck({ audience: AUDIENCE, serviceAccountEmail: PUSH_SA }, async () => {
      attempts++;
      const { loadOptionalPeer } = await import('../../src/_optional-peer.ts');
      return loadOptionalPeer('google-auth-library', 'gcpPubSubPushHandler (oidc)', () => {
        const error = Object.assign(new Error("Cannot find package 'google-auth-library' imported from /app/x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
        return Promise.reject(error);
      });
    });
    const first = await check(push(`Bearer ${sign(claims())}`));
    assert.equal(first.ok, 'unavailable');
    if (first.ok !== 'unavailable') return;
    assert.equal(first.error.code, ErrorCodes.PEER_MISSING);
    assert.match(first.error.message, /^gcpPubSubPushHandler \(oidc\) needs the optional peer google-auth-library, which is not installed: npm install google-auth-library$/);
    await check(push(`Bearer ${sign(claims())}`));
    assert.equal(attempts, 2, 'a failed load is tried again on the next push');
  });
});
