// The pool's event payloads, apart from pg-pool.ts so that their types need no `pg`:
// keyshift/admin's alert rules watch a pool through them, and an application without pg
// must typecheck keyshift/admin with skipLibCheck false.
import type { KeyshiftError } from '../../errors.ts';

/** What the pool reports; no payload carries a credential. */
export interface RotatingPoolEvents {
  /** New calls now go to a pool built with the new credentials. */
  swap: { generation: number; previousGeneration: number; userVersion?: string; passwordVersion?: string; trigger: 'change' | 'recovery' };
  /** An old pool ended: its last checked-out client was released (or closed at the drain timeout). */
  drained: { generation: number; durationMs: number; forcedClients: number };
  /** A credential check failed: the server refused the credentials, or the connection failed. */
  'auth-failure': { generation: number; phase: 'candidate' | 'current'; failures: number; sqlState?: string; nextCheckMs?: number };
  /** The one alert of an incident: the server keeps refusing the credentials. */
  alert: { kind: 'auth-failure' | 'connect-failure'; generation: number; failures: number; message: string };
  /** The credentials work again after an incident. */
  recovered: { generation: number; failures: number; durationMs: number };
  /** A client failed outside a call (idle error, F10) or a background step failed. Never thrown. */
  error: { generation: number; phase: 'idle-client' | 'checked-out-client' | 'drain' | 'refresh'; error: KeyshiftError };
}
