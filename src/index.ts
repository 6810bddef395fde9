export * from './constants.ts';
export * from './core/index.ts';
export * from './errors.ts';
export type * from './types.ts';
