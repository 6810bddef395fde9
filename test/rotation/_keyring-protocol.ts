// What keyring-processes.test.ts and its children (_keyring-child.ts) say over IPC.

export const TOKEN_TTL_MS = 1_000;
export const CLOCK_SKEW_MS = 200;
export const OVERLAP_MS = 1_500;
export const ENTRY = 'SUCCESS_URL_SIGNING_KEY';

export type ToChild =
  | { type: 'mint'; on: boolean }
  | { type: 'verify'; tokens: string[] }
  | { type: 'verify-one'; token: string }
  | { type: 'flood'; token: string; count: number }
  | { type: 'add'; kid: string }
  | { type: 'promote'; kid: string; instancesReady: boolean; minDelayMs: number }
  | { type: 'retire' }
  | { type: 'stop' };

export type FromChild =
  | { type: 'ready' }
  | { type: 'kids'; kids: Array<{ kid: string; state: string }> }
  | { type: 'tokens'; tokens: string[] }
  | { type: 'verified'; ok: number; failed: Array<{ reason: string; kid?: string }> }
  | { type: 'result'; reason: string; ok: boolean }
  | { type: 'flooded'; reasons: string[]; refreshes: number }
  | { type: 'done'; action: string; version?: number; refused?: string };
