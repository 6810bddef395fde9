import type { KeyshiftError } from '../errors.ts';

/** What the agent reports besides its log lines: renders, their failures, notifications. Never values. */
export type AgentEvent =
  | { type: 'rendered'; generation: number; dir: string }
  | { type: 'render-failed'; generation: number; error: KeyshiftError }
  | { type: 'notify-failed'; generation: number; error: KeyshiftError };
