import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findViolation } from '../../src/core/policy.ts';
import { createKeyshift, DEFAULT_POLICY, defineSecrets, type PolicyRule, t } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';

describe('Policy', () => {
  it('keeps private keys static, and out of every rotation integration', () => {
    assert.equal(findViolation('HOST_WALLET_PRIVATE_KEY', { static: true }), undefined);
    assert.equal(findViolation('HOST_WALLET_PRIVATE_KEY', {})?.rule.id, 'private-key-static');
    assert.equal(findViolation('HOST_WALLET_PRIVATE_KEY', { static: true, rotation: 'keyring' })?.rule.id, 'private-key-static');
    assert.equal(findViolation('ANY', { category: 'private-key' })?.rule.id, 'private-key-static');
  });

  it('lets signing keys be dynamic only through the keyring, DB passwords only through the pg pool', () => {
    assert.equal(findViolation('SUCCESS_URL_SIGNING_KEY', {})?.rule.id, 'signing-key-static');
    assert.equal(findViolation('SUCCESS_URL_SIGNING_KEY', { rotation: 'keyring' }), undefined);
    assert.equal(findViolation('SUCCESS_URL_SIGNING_KEY', { rotation: 'pg-pool' })?.rule.id, 'signing-key-static');
    assert.equal(findViolation('DATABASE_PASSWORD_SECRET', {})?.rule.id, 'db-password-static');
    assert.equal(findViolation('DATABASE_PASSWORD_SECRET', { rotation: 'pg-pool' }), undefined);
    assert.equal(findViolation('CHANGENOW_API_KEY', { category: 'api-key' }), undefined);
  });

  it('rules are data: a team adds its own and createKeyshift enforces it', () => {
    const noDynamicMnemonic: PolicyRule = { id: 'mnemonic-static', description: 'seed phrases never reload', name: /_MNEMONIC$/, allowRotation: [] };
    const policy = [...DEFAULT_POLICY, noDynamicMnemonic];
    const decl = defineSecrets({ WALLET_MNEMONIC: { type: t.string() } });
    assert.throws(() => createKeyshift(decl, { source: memorySource(), policy }), /WALLET_MNEMONIC breaks policy rule "mnemonic-static"/);
    assert.throws(() => defineSecrets({ WALLET_MNEMONIC: { type: t.string() } }, { policy }), { code: 'KS_ERR_POLICY' });
  });
});
