/**
 * A loopback AWS Secrets Manager endpoint: node:http on 127.0.0.1, the AWS JSON 1.1
 * protocol (`X-Amz-Target: secretsmanager.<Operation>`), the real error shapes
 * (`__type` + `Message`, HTTP 400 for client faults, 5xx for server faults), with
 * injectable latency and faults and a counter of calls per operation. Point the real
 * `SecretsManagerClient` at `endpoint` with any region and static fake credentials.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsSecretsStore, AwsServiceError } from './_aws-secrets-store.ts';

export const AWS_SECRETS_MANAGER_OPERATIONS = [
  'GetSecretValue',
  'BatchGetSecretValue',
  'PutSecretValue',
  'DescribeSecret',
  'CreateSecret',
  'UpdateSecretVersionStage',
  'ListSecretVersionIds',
  'ListSecrets',
  'TagResource',
  'UntagResource',
] as const;

export type AwsSecretsManagerOperation = (typeof AWS_SECRETS_MANAGER_OPERATIONS)[number];

/** What an injected fault does to the calls it matches. */
export type AwsFaultEffect =
  /** Answer with this AWS error type (`ThrottlingException`, `AccessDeniedException`...). */
  | { readonly error: string; readonly status?: number; readonly message?: string; readonly retryAfterSeconds?: number }
  /** Drop the connection without an answer (a network failure for the client). */
  | { readonly reset: true }
  /** Never answer; the call ends only when the client aborts or the server closes. */
  | { readonly hang: true }
  /** Answer normally, this many milliseconds later than `latencyMs` alone would. */
  | { readonly delayMs: number };

export type AwsFault = AwsFaultEffect & {
  /** Only calls of this operation. Default: every operation. */
  readonly operation?: AwsSecretsManagerOperation;
  /** Matches this many calls, then removes itself. Default: until disposed. */
  readonly times?: number;
};

export interface AwsSecretsManagerServerOptions {
  /** Latency added before every answer, in ms. Default 0. */
  latencyMs?: number;
  /** Region written into ARNs. Default `us-east-1`. */
  region?: string;
  /** Account id written into ARNs. Default `123456789012`. */
  accountId?: string;
}

export interface AwsSecretsManagerServer {
  /** `http://127.0.0.1:PORT`, for the client's `endpoint`. */
  readonly endpoint: string;
  readonly region: string;
  /** Latency added before every answer, in ms; may be changed at any time. */
  latencyMs: number;
  /** Calls received per operation, faulted ones included. */
  readonly calls: Readonly<Record<AwsSecretsManagerOperation, number>>;
  /** Sum of `calls`. */
  totalCalls(): number;
  resetCalls(): void;
  /** Adds a fault; returns its disposer. Faults are checked in the order added. */
  inject(fault: AwsFault): () => void;
  clearFaults(): void;
  /** Runs an operation on the state directly: no network, latency, fault or counter. */
  direct(operation: AwsSecretsManagerOperation, input: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.1';

function isOperation(name: string): name is AwsSecretsManagerOperation {
  return (AWS_SECRETS_MANAGER_OPERATIONS as readonly string[]).includes(name);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) resolve(undefined);
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the endpoint on 127.0.0.1, port 0. */
export async function startAwsSecretsManagerServer(
  options: AwsSecretsManagerServerOptions = {},
): Promise<AwsSecretsManagerServer> {
  const store = new AwsSecretsStore(options.region ?? 'us-east-1', options.accountId ?? '123456789012');
  const calls = Object.fromEntries(AWS_SECRETS_MANAGER_OPERATIONS.map((op) => [op, 0])) as Record<
    AwsSecretsManagerOperation,
    number
  >;
  const faults: Array<{ fault: AwsFault; left: number }> = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let latencyMs = options.latencyMs ?? 0;

  function takeFault(operation: AwsSecretsManagerOperation): AwsFault | undefined {
    const index = faults.findIndex((f) => f.fault.operation === undefined || f.fault.operation === operation);
    const match = faults[index];
    if (!match) return undefined;
    match.left -= 1;
    if (match.left <= 0) faults.splice(index, 1);
    return match.fault;
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.destroyed) return;
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': randomUUID(),
      ...headers,
    });
    res.end(payload);
  }

  function sendError(res: ServerResponse, error: AwsServiceError, headers?: Record<string, string>): void {
    send(res, error.status, { __type: error.type, Message: error.message }, headers);
  }

  function later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) return sendError(res, new AwsServiceError('RequestEntityTooLarge', 'Request too large', 413));
    const target = String(req.headers['x-amz-target'] ?? '');
    const [service, operation = ''] = target.split('.');
    if (req.method !== 'POST' || service !== 'secretsmanager' || !isOperation(operation)) {
      return sendError(res, new AwsServiceError('UnknownOperationException', `Unknown operation ${target}`));
    }
    calls[operation] += 1;
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      return sendError(res, new AwsServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token'));
    }
    const fault = takeFault(operation);
    if (fault && 'hang' in fault) return;
    if (fault && 'reset' in fault) {
      req.socket.destroy();
      return;
    }
    const delay = latencyMs + (fault && 'delayMs' in fault ? fault.delayMs : 0);
    later(delay, () => {
      if (fault && 'error' in fault) {
        const status = fault.status ?? (/InternalServiceError|ServiceUnavailable/.test(fault.error) ? 500 : 400);
        const headers: Record<string, string> =
          fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
        return sendError(res, new AwsServiceError(fault.error, fault.message ?? fault.error, status), headers);
      }
      try {
        const input: unknown = JSON.parse(body || '{}');
        if (typeof input !== 'object' || input === null || Array.isArray(input)) {
          throw new AwsServiceError('SerializationException', 'Start of structure or map found where not expected.');
        }
        send(res, 200, store.handle(operation, input as Record<string, unknown>));
      } catch (error) {
        if (error instanceof AwsServiceError) return sendError(res, error);
        if (error instanceof SyntaxError) return sendError(res, new AwsServiceError('SerializationException', 'Malformed JSON'));
        sendError(res, new AwsServiceError('InternalServiceError', 'An error occurred on the server side.', 500));
      }
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, new AwsServiceError('InternalServiceError', 'An error occurred.', 500));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: store.region,
    get latencyMs() {
      return latencyMs;
    },
    set latencyMs(ms: number) {
      latencyMs = ms;
    },
    calls,
    totalCalls: () => Object.values(calls).reduce((a, b) => a + b, 0),
    resetCalls() {
      for (const op of AWS_SECRETS_MANAGER_OPERATIONS) calls[op] = 0;
    },
    inject(fault) {
      const entry = { fault, left: fault.times ?? Number.POSITIVE_INFINITY };
      faults.push(entry);
      return () => {
        const index = faults.indexOf(entry);
        if (index >= 0) faults.splice(index, 1);
      };
    },
    clearFaults() {
      faults.length = 0;
    },
    direct: (operation, input) => store.handle(operation, input),
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      faults.length = 0;
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
