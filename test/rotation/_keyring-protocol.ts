// What keyring-processes.test.ts and its children (_keyring-child.ts) say over IPC.
// The children's wall clock (token expiry, key retirement, the keyset's timestamps) is
// the test's: it starts at the wall time given on the command line and moves only on a
// `clock` message, so a token delayed in transit on a loaded machine never expires and a
// key retires when the test moves the clock past its overlap, not after a sleep.

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
  /** Sets the child's wall clock (ms since the epoch); answered by `clock-set`. */
  | { type: 'clock'; wallNow: number }
  /** B only: while on, what B's store reads return is held back (answered by `held`). */
  | { type: 'hold'; on: boolean }
  /** Answered by `synced` once every message the child sent before it is on the channel. */
  | { type: 'sync' }
  | { type: 'stop' };

export type FromChild =
  | { type: 'ready' }
  | { type: 'kids'; kids: Array<{ kid: string; state: string }> }
  | { type: 'tokens'; tokens: string[] }
  | { type: 'verified'; ok: number; failed: Array<{ reason: string; kid?: string }> }
  | { type: 'result'; reason: string; ok: boolean }
  | { type: 'flooded'; reasons: string[]; refreshes: number }
  | { type: 'done'; action: string; version?: number; refused?: string }
  | { type: 'clock-set' }
  | { type: 'held' }
  | { type: 'synced' };
