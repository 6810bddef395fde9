import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminFixture, json } from './_fixture.ts';

/** An endless body of `size`-byte chunks; `pulls()` tells how many were read. */
function endlessBody(size: number) {
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
  });
  return { body, pulls: () => pulls };
}

const post = (body: BodyInit | null, headers: Record<string, string> = json) => ({ method: 'POST', headers, body });

describe('POST /admin/refresh', () => {
  it('refreshes every dynamic entry when no body is sent, and answers versions, never values', async () => {
    const f = await adminFixture();
    try {
      f.source.set('CHANGENOW_API_KEY', 'fake-changenow-key-2');
      const res = await f.authed('/admin/refresh', { method: 'POST' });
      assert.equal(res.status, 200);
      const { results } = (await res.json()) as { results: Array<Record<string, unknown>> };
      assert.deepEqual(results.map((r) => r.name).sort(), ['BATCH_SIZE', 'CHANGENOW_API_KEY', 'PGP_SPLIT2_URL', 'TP_FLAT_FEE']);
      const key = results.find((r) => r.name === 'CHANGENOW_API_KEY');
      assert.deepEqual(
        { changed: key?.changed, version: key?.version, previousVersion: key?.previousVersion, manager: key?.manager, trigger: undefined },
        { changed: true, version: '6', previousVersion: '1', manager: 'PGP_SPLIT2_v1', trigger: undefined },
      );
      assert.equal(f.ks.get('CHANGENOW_API_KEY').reveal(), 'fake-changenow-key-2');
      assert.equal(JSON.stringify(results).includes('fake-changenow-key'), false);
    } finally {
      await f.close();
    }
  });

  it('Plan 26: refreshes only the named entries, with the admin trigger, and reports coalesced calls', async () => {
    const f = await adminFixture();
    try {
      const triggers: string[] = [];
      f.ks.on('fetch', (e) => triggers.push(`${e.name}:${e.trigger}`));
      const first = await f.authed('/admin/refresh', post('{"names": ["TP_FLAT_FEE"]}'));
      assert.equal(first.status, 200);
      const second = await f.authed('/admin/refresh', post('{"names": ["TP_FLAT_FEE", "TP_FLAT_FEE"]}'));
      const body = (await second.json()) as { results: Array<{ name: string; coalesced: boolean }> };
      assert.deepEqual(body.results, [{ ...body.results[0], name: 'TP_FLAT_FEE', coalesced: true }]);
      assert.deepEqual(triggers, ['TP_FLAT_FEE:admin']);
      assert.deepEqual(f.audit.map((a) => a.names), [['TP_FLAT_FEE'], ['TP_FLAT_FEE']]);
    } finally {
      await f.close();
    }
  });

  it('Plan 25: answers 404 naming an unknown entry, 409 for a static one, and refreshes nothing', async () => {
    const f = await adminFixture();
    try {
      const before = f.source.totalCalls;
      const unknown = await f.authed('/admin/refresh', post('{"names": ["TP_FLAT_FEE", "NOT_DECLARED"]}'));
      assert.equal(unknown.status, 404);
      const problem = (await unknown.json()) as { error: { code: string; message: string; entries: string[] } };
      assert.equal(problem.error.code, 'KS_ERR_UNKNOWN_ENTRY');
      assert.match(problem.error.message, /NOT_DECLARED/);
      assert.deepEqual(problem.error.entries, ['NOT_DECLARED']);
      // a value pasted as a name has a name's characters but does not read like one: not named back
      const pasted = await f.authed('/admin/refresh', post('{"names": ["xoxb-2xK9aP7mQ3vR8tL1wZ5n"]}'));
      assert.equal(pasted.status, 404);
      const pastedText = await pasted.text();
      assert.match(pastedText, /KS_ERR_UNKNOWN_ENTRY/);
      assert.equal(pastedText.includes('2xK9aP7m'), false, 'the pasted value is named back');
      // the same for "manager": a name is named back, a token is not
      const noManager = await f.authed('/admin/refresh', post('{"manager": "billing-eu"}'));
      assert.equal(noManager.status, 404);
      assert.match(((await noManager.json()) as { error: { message: string } }).error.message, /no manager named "billing-eu"/);
      const pastedManager = await f.authed('/admin/refresh', post('{"manager": "xoxb-2xK9aP7mQ3vR8tL1wZ5n"}'));
      assert.equal(pastedManager.status, 404);
      assert.equal((await pastedManager.text()).includes('2xK9aP7m'), false, 'the pasted value is named back as a manager');
      const statik = await f.authed('/admin/refresh', post('{"names": ["SUCCESS_URL_SIGNING_KEY"]}'));
      assert.equal(statik.status, 409);
      assert.match(((await statik.json()) as { error: { message: string } }).error.message, /SUCCESS_URL_SIGNING_KEY is static/);
      assert.equal(f.source.totalCalls, before);
      assert.deepEqual(
        f.audit.map((a) => [a.status, a.outcome, a.names, a.unknownNames]),
        [
          [404, 'not-found', ['TP_FLAT_FEE'], 1],
          [404, 'not-found', [], 1],
          [404, 'not-found', [], undefined],
          [404, 'not-found', [], undefined],
          [409, 'conflict', ['SUCCESS_URL_SIGNING_KEY'], undefined],
        ],
      );
    } finally {
      await f.close();
    }
  });

  it('Plan 25: answers 400 with a parse position for malformed JSON and echoes none of the body', async () => {
    const f = await adminFixture();
    try {
      for (const [body, position] of [
        ['{"names": [SECRETWORD]}', 11],
        ['{"names": ["A",]}', 15],
        ['{"names": ["A"]', 15],
        ["{'names': []}", 1],
      ] as const) {
        const res = await f.authed('/admin/refresh', post(body));
        assert.equal(res.status, 400);
        const text = await res.text();
        assert.match(text, new RegExp(`position ${position}\\b`), text);
        assert.equal(text.includes('SECRETWORD') || text.includes('names'), false, text);
      }
    } finally {
      await f.close();
    }
  });

  it('Plan 25: answers 400 for bodies of the wrong shape, including more than 1,000 names', async () => {
    const f = await adminFixture();
    try {
      const many = JSON.stringify({ names: Array.from({ length: 1_001 }, (_, i) => `N${i}`) });
      for (const body of ['[]', '"x"', '{"names": "TP_FLAT_FEE"}', '{"names": [1]}', '{"names": ["bad name"]}', '{"extra": 1}', many]) {
        const res = await f.authed('/admin/refresh', post(body));
        assert.equal(res.status, 400, body.slice(0, 40));
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_request');
      }
      const tenThousand = JSON.stringify({ names: Array.from({ length: 10_000 }, () => 'A') });
      const res = await f.authed('/admin/refresh', post(tenThousand));
      assert.ok(res.status === 400 || res.status === 413, String(res.status));
    } finally {
      await f.close();
    }
  });

  it('Plan 25: answers 415 for a body that is not JSON', async () => {
    const f = await adminFixture();
    try {
      assert.equal((await f.authed('/admin/refresh', post('names=A', { 'content-type': 'application/x-www-form-urlencoded' }))).status, 415);
      assert.equal((await f.authed('/admin/refresh', post('{}', { 'content-type': 'text/plain' }))).status, 415);
      assert.equal((await f.authed('/admin/refresh', post('{}', { 'content-type': 'application/json; charset=utf-8' }))).status, 200);
    } finally {
      await f.close();
    }
  });

  it('Plan 25: answers 413 for a declared length over 16 KiB without reading the body', async () => {
    const f = await adminFixture();
    try {
      const { body, pulls } = endlessBody(1024);
      const res = await f.authed('/admin/refresh', { method: 'POST', headers: { ...json, 'content-length': String(17 * 1024) }, body, duplex: 'half' } as RequestInit);
      assert.equal(res.status, 413);
      assert.ok(pulls() <= 1, `pulled ${pulls()} chunks`);
    } finally {
      await f.close();
    }
  });

  it('Plan 25: answers 413 for a streamed body as soon as it crosses the limit', async () => {
    const f = await adminFixture();
    try {
      const { body, pulls } = endlessBody(4096);
      const res = await f.authed('/admin/refresh', { method: 'POST', headers: json, body, duplex: 'half' } as RequestInit);
      assert.equal(res.status, 413);
      assert.equal(res.headers.get('connection'), 'close');
      assert.ok(pulls() <= 6, `pulled ${pulls()} chunks of 4 KiB for a 16 KiB limit`);
    } finally {
      await f.close();
    }
  });

  it('answers 405 for GET and 503 before ready()', async () => {
    const f = await adminFixture({ ready: false });
    try {
      const get = await f.authed('/admin/refresh');
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
      const early = await f.authed('/admin/refresh', { method: 'POST' });
      assert.equal(early.status, 503);
      assert.equal(((await early.json()) as { error: { code: string } }).error.code, 'KS_ERR_NOT_READY');
    } finally {
      await f.close();
    }
  });
});
