import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Secret } from '../../src/index.ts';

const canary = randomBytes(32).toString('base64url');
const forms = [canary, Buffer.from(canary).toString('hex'), Buffer.from(canary).toString('base64'), encodeURIComponent(canary)];
const clean = (out: unknown) => !forms.some((f) => String(out).includes(f));

describe('Plan 28: Secret wrapper hardness', () => {
  const secret = new Secret(canary);
  it('prints [redacted] however it is printed or stringified', () => {
    const outputs = [
      inspect(secret),
      inspect(secret, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      inspect(secret, { customInspect: false, showHidden: true }),
      inspect({ nested: { secret } }, { depth: 10 }),
      JSON.stringify({ secret }),
      String(secret),
      `${secret}`,
      secret + '',
      Object.prototype.toString.call(secret),
    ];
    for (const out of outputs) assert.ok(clean(out), out);
    assert.equal(String(secret), '[redacted]');
  });

  it('copies to nothing: spread, entries, own names and symbols, structuredClone', () => {
    assert.deepEqual({ ...secret }, {});
    assert.deepEqual(Object.entries(secret), []);
    assert.deepEqual(Object.getOwnPropertyNames(secret), []);
    assert.deepEqual(Object.getOwnPropertySymbols(secret), []);
    assert.ok(clean(JSON.stringify(structuredClone(secret))));
  });

  it('crosses to a worker as an empty object', async () => {
    const worker = new Worker('process.stdout; require("worker_threads").parentPort.on("message", (m) => { require("worker_threads").parentPort.postMessage(JSON.stringify(m)); });', { eval: true });
    const echoed = await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ secret });
    });
    await worker.terminate();
    assert.ok(clean(echoed), 'worker saw the canary');
  });

  it('console.log and every other form show nothing for a Secret of a string, an object or bytes', async () => {
    const wrapped = [new Secret(canary), new Secret({ password: canary, nested: [canary] }), new Secret(Buffer.from(canary))];
    const logged: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void logged.push(args.map((a) => inspect(a)).join(' '));
    try {
      for (const x of wrapped) console.log(x);
    } finally {
      console.log = log;
    }
    for (const x of wrapped) {
      const outputs = [
        inspect(x, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        inspect(x, { customInspect: false, showHidden: true }),
        JSON.stringify(x),
        String(x),
        `${x}`,
        JSON.stringify({ ...x }),
        JSON.stringify(Object.entries(x)),
        JSON.stringify(structuredClone(x)),
      ];
      for (const out of outputs) assert.ok(clean(out), 'a form showed the canary');
    }
    assert.equal(logged.length, 3);
    for (const line of logged) assert.ok(clean(line) && !line.includes('password'), 'console.log showed the canary');
  });

  it('reveals only through an explicit reveal(), and is frozen', () => {
    assert.equal(secret.reveal(), canary);
    assert.ok(Object.isFrozen(secret));
    assert.ok(Secret.isSecret(secret));
    assert.ok(!Secret.isSecret({}));
  });
});
