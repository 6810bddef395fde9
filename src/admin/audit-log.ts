/** What an admin request tried to do. */
export type AuditAction = 'refresh' | 'status' | 'metrics' | 'dashboard' | 'unknown-route' | 'probe';

/** How it ended. */
export type AuditOutcome =
  | 'ok'
  | 'denied'
  | 'rate-limited'
  | 'bad-request'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'too-large'
  | 'unsupported-media-type'
  | 'unavailable'
  | 'error';

/**
 * One line per admin request (OWASP: who, what, when, outcome). Only declared entry
 * names appear; a token appears only as an HMAC fingerprint keyed by the server.
 */
export interface AuditRecord {
  /** ISO wall-clock time. */
  time: string;
  /** The client address the adapter passed in, or 'unknown'. */
  client: string;
  action: AuditAction;
  /** Declared entry names the request named (empty: all, or none). */
  names: string[];
  /** Names the request gave that no manager declares: counted, never written. */
  unknownNames?: number;
  outcome: AuditOutcome;
  status: number;
  /** On a 405: the method refused, as the client sent it (an HTTP token of at most 32 characters, else `?`). */
  method?: string;
  /** HMAC-SHA256 of the presented token with the server key (16 hex digits), when one was presented. */
  tokenFingerprint?: string;
}

/** Where audit records go. */
export type AuditSink = (record: AuditRecord) => void;

/** The default sink: one JSON line on stderr per record. */
export const stderrAuditSink: AuditSink = (record) => {
  process.stderr.write(`${JSON.stringify({ audit: 'keyshift-admin', ...record })}\n`);
};

/** Wraps a sink so that a throwing sink never breaks the response it audits. */
export function safeAuditSink(sink: AuditSink): AuditSink {
  let warned = false;
  return (record) => {
    try {
      sink(record);
    } catch {
      if (!warned) process.stderr.write('keyshift warn: the admin audit sink threw; audit lines may be missing\n');
      warned = true;
    }
  };
}
