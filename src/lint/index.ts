export { createKeyshiftPlugin, type KeyshiftPlugin, type KeyshiftPluginOptions, keyshiftPlugin } from './eslint-plugin.ts';
export { createNoDynamicStaticSecret } from './no-dynamic-static-secret.ts';
