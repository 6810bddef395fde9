import type { Clock } from '../../types.ts';
import type { AlertRules } from '../alert-rules.ts';
import type { AdminMetrics } from '../metrics.ts';
import type { AdminManager } from '../types.ts';
import type { UsageMeter } from '../usage-meter.ts';

/** What every route reads: built once per handler. */
export interface RouteContext {
  readonly managers: readonly AdminManager[];
  readonly alerts: AlertRules;
  readonly usage: UsageMeter;
  readonly metrics: AdminMetrics | undefined;
  readonly maxBodyBytes: number;
  readonly basePath: string;
  readonly clock: Clock;
}

/** A route's answer plus what its audit line records. */
export interface RouteResult {
  response: Response;
  /** Declared entry names the request named. */
  names?: string[];
  /** How many names it gave that nothing declares. */
  unknownNames?: number;
}
