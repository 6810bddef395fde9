/**
 * The keyshift ESLint plugin (flat config). In `eslint.config.js`:
 *
 *   import { keyshiftPlugin } from 'keyshift/lint';
 *   export default [keyshiftPlugin.configs.recommended];
 *
 * or, with a team's own policy rules next to the defaults:
 *
 *   const keyshift = createKeyshiftPlugin({ policy: [...DEFAULT_POLICY, myRule] });
 */
import type { ESLint, Linter, Rule } from 'eslint';
import { DEFAULT_POLICY, type PolicyRule } from '../core/policy.ts';
import { createNoDynamicStaticSecret } from './no-dynamic-static-secret.ts';

export interface KeyshiftPluginOptions {
  /** Rules the lint rule checks against; give the same list the managers get. Default DEFAULT_POLICY. */
  policy?: readonly PolicyRule[];
}

export interface KeyshiftPlugin extends ESLint.Plugin {
  rules: { 'no-dynamic-static-secret': Rule.RuleModule };
  configs: { recommended: Linter.Config };
}

/** Builds the plugin; its `configs.recommended` turns `keyshift/no-dynamic-static-secret` on as an error. */
export function createKeyshiftPlugin(options: KeyshiftPluginOptions = {}): KeyshiftPlugin {
  const plugin: KeyshiftPlugin = {
    meta: { name: 'keyshift' },
    rules: { 'no-dynamic-static-secret': createNoDynamicStaticSecret(options.policy ?? DEFAULT_POLICY) },
    configs: { recommended: {} },
  };
  plugin.configs.recommended = {
    name: 'keyshift/recommended',
    plugins: { keyshift: plugin },
    rules: { 'keyshift/no-dynamic-static-secret': 'error' },
  };
  return plugin;
}

/** The plugin with the default policy. */
export const keyshiftPlugin: KeyshiftPlugin = createKeyshiftPlugin();
