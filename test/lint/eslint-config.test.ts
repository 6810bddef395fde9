import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('eslint.config.js: the policy rule on examples/', () => {
  const eslint = new ESLint({ cwd: ROOT });

  it('passes on every example (what `npx eslint examples` runs)', async () => {
    const results = await eslint.lintFiles(['examples']);
    assert.ok(results.length >= 20, `only ${results.length} files linted`);
    const messages = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.message}`));
    assert.deepEqual(messages, []);
  });

  it('fails an example that reads a private key dynamically', async () => {
    const code = "export const read = (ks: { get(n: string): unknown }) => ks.get('HOST_WALLET_PRIVATE_KEY');\n";
    const [result] = await eslint.lintText(code, { filePath: `${ROOT}/examples/pgp/bad-read.ts` });
    assert.equal(result?.errorCount, 1);
    assert.equal(result?.messages[0]?.ruleId, 'keyshift/no-dynamic-static-secret');
  });
});
