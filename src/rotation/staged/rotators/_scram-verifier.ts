/**
 * A PostgreSQL SCRAM-SHA-256 verifier (RFC 5802, RFC 7677), as the server stores it.
 * `ALTER ROLE r PASSWORD 'SCRAM-SHA-256$...'` sets the password without the plaintext
 * ever reaching the server: no statement log, pg_stat_statements or server error can
 * show it. The passwords rotators make are ASCII, so SASLprep leaves them unchanged.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default iteration count (scram_iterations). */
const ITERATIONS = 4096;

export function scramVerifier(password: string, salt: Uint8Array = randomBytes(16)): string {
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  salted.fill(0);
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  return `SCRAM-SHA-256$${ITERATIONS}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}
