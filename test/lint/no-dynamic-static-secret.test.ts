import { describe, it } from 'node:test';
import tsParser from '@typescript-eslint/parser';
import { RuleTester } from 'eslint';
import { DEFAULT_POLICY } from '../../src/index.ts';
import { createKeyshiftPlugin, keyshiftPlugin } from '../../src/lint/index.ts';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const rule = keyshiftPlugin.rules['no-dynamic-static-secret'];
const tester = new RuleTester({ languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' } });

tester.run('keyshift/no-dynamic-static-secret', rule, {
  valid: [
    // Static reads are the right way.
    'ks.static.HOST_WALLET_PRIVATE_KEY.reveal();',
    "ks.get('CHANGENOW_API_KEY').reveal();",
    "ks.snapshot().get('TP_FLAT_FEE');",
    "void ks.refresh('CHANGENOW_API_KEY');",
    "void ks.refresh(['PGP_SPLIT2_URL', 'TP_FLAT_FEE']);",
    'void ks.refresh();',
    // A computed name cannot be judged at lint time.
    'ks.get(name);',
    // Declarations that keep the policy.
    "defineSecrets({ HOST_WALLET_PRIVATE_KEY: { type: t.string(), category: 'private-key', static: true } });",
    "defineSecrets({ SUCCESS_URL_SIGNING_KEY: { type: t.string(), static: true } });",
    "defineSecrets({ JWT_SIGNING_KEY: { type: t.string(), category: 'signing-key', rotation: 'keyring' } });",
    "defineSecrets({ DATABASE_PASSWORD: { type: t.string(), category: 'database-credential', rotation: 'pg-pool' } });",
    "const HOST_WALLET_PRIVATE_KEY = { type: t.string(), category: 'private-key', static: true } as const satisfies EntryDeclaration<string>;",
    // Spread: `static` may come from the base, so the rule stays quiet.
    'defineSecrets({ HOST_WALLET_PRIVATE_KEY: { ...BASE } });',
    'defineSecrets({ HOST_WALLET_PRIVATE_KEY: { ...BASE, static: true } });',
    // Not an entry declaration: `type` is a plain string.
    "const keys = { SSH_PRIVATE_KEY: { type: 'ed25519' } };",
    // Other names and plain maps.
    "map.get('SOME_KEY');",
    "defineSecrets({ CHANGENOW_API_KEY: { type: t.string(), category: 'api-key' } });",
  ],
  invalid: [
    {
      code: "ks.get('HOST_WALLET_PRIVATE_KEY');",
      errors: [{ message: /^HOST_WALLET_PRIVATE_KEY is kept static by policy rule "private-key-static": read it as \.static\.HOST_WALLET_PRIVATE_KEY, not with get\(\)/ }],
    },
    { code: 'ks.get(`TPS_HOSTPAY_SIGNING_KEY`).reveal();', errors: [{ message: /^TPS_HOSTPAY_SIGNING_KEY is kept static by policy rule "signing-key-static": read it as \.static\.TPS_HOSTPAY_SIGNING_KEY, not with get\(\)/ }] },
    { code: "ks.snapshot().get('DATABASE_PASSWORD_SECRET');", errors: [{ message: /^DATABASE_PASSWORD_SECRET is kept static by policy rule "db-password-static": read it as \.static\.DATABASE_PASSWORD_SECRET, not with get\(\)/ }] },
    { code: "await ks.refresh('HOST_WALLET_PRIVATE_KEY');", errors: [{ message: /^HOST_WALLET_PRIVATE_KEY is kept static by policy rule "private-key-static": it is never refreshed/ }] },
    {
      code: "await ks.refresh(['TP_FLAT_FEE', 'SUCCESS_URL_SIGNING_KEY', 'COLD_PRIVATE_KEY']);",
      errors: [
        { message: /^SUCCESS_URL_SIGNING_KEY is kept static by policy rule "signing-key-static": it is never refreshed/ },
        { message: /^COLD_PRIVATE_KEY is kept static by policy rule "private-key-static": it is never refreshed/ },
      ],
    },
    {
      code: "defineSecrets({ HOST_WALLET_PRIVATE_KEY: { type: t.string(), category: 'private-key' } });",
      errors: [{ message: /^HOST_WALLET_PRIVATE_KEY breaks policy rule "private-key-static": it may / }],
    },
    {
      code: "defineSecrets({ 'COLD_PRIVATE_KEY': { type: t.string(), static: false } as const });",
      errors: [{ message: /^COLD_PRIVATE_KEY breaks policy rule "private-key-static": it may / }],
    },
    {
      // Covered by category even though the name says nothing.
      code: "defineSecrets({ WALLET: { type: t.string(), category: 'private-key' } });",
      errors: [{ message: /^WALLET breaks policy rule "private-key-static": it may / }],
    },
    {
      // A private key may not be handed to any rotation; a signing key only to the keyring.
      code: "defineSecrets({ HOST_WALLET_PRIVATE_KEY: { type: t.string(), rotation: 'keyring' }, SUCCESS_URL_SIGNING_KEY: { type: t.string(), rotation: 'pg-pool' } });",
      errors: [
        { message: /^HOST_WALLET_PRIVATE_KEY breaks policy rule "private-key-static": it may not be handed to "keyring"/ },
        { message: /^SUCCESS_URL_SIGNING_KEY breaks policy rule "signing-key-static": it may not be handed to "pg-pool"/ },
      ],
    },
    {
      code: "const HOST_WALLET_PRIVATE_KEY = { type: t.string(), category: 'private-key' } as const satisfies EntryDeclaration<string>;",
      errors: [{ message: /^HOST_WALLET_PRIVATE_KEY breaks policy rule "private-key-static": it may / }],
    },
    { code: 'defineSecrets({ HOST_WALLET_PRIVATE_KEY: { ...BASE, static: false } });', errors: [{ message: /^HOST_WALLET_PRIVATE_KEY breaks policy rule "private-key-static": it may / }] },
    {
      // Declared static under a covered category in this file, then read dynamically.
      code: "const d = defineSecrets({ WALLET: { type: t.string(), category: 'private-key', static: true } }); ks.get('WALLET');",
      errors: [{ message: /^WALLET is kept static by policy rule "private-key-static": read it as \.static\.WALLET, not with get\(\)/ }],
    },
  ],
});

const custom = createKeyshiftPlugin({
  policy: [...DEFAULT_POLICY, { id: 'seed-static', description: 'seed phrases never reload', name: /_SEED$/, allowRotation: [] }],
});

tester.run('keyshift/no-dynamic-static-secret with a team policy', custom.rules['no-dynamic-static-secret'], {
  valid: ["ks.get('CHANGENOW_API_KEY');", "defineSecrets({ WALLET_SEED: { type: t.string(), static: true } });"],
  invalid: [
    { code: "ks.get('WALLET_SEED');", errors: [{ message: /^WALLET_SEED is kept static by policy rule "seed-static": read it as \.static\.WALLET_SEED, not with get\(\)/ }] },
    { code: "ks.get('HOST_WALLET_PRIVATE_KEY');", errors: [{ message: /^HOST_WALLET_PRIVATE_KEY is kept static by policy rule "private-key-static": read it as \.static\.HOST_WALLET_PRIVATE_KEY, not with get\(\)/ }] },
  ],
});
