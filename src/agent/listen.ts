import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { ListenConfig } from './agent-config.ts';

/** Largest request head (request line + headers) a surface of the agent reads. */
export const AGENT_MAX_HEADER_BYTES = 8192;

export interface Listening {
  readonly server: Server;
  /** `unix:/path` or `http://127.0.0.1:PORT`. */
  readonly address: string;
  close(): Promise<void>;
}

/** Is a process answering on this socket? */
function inUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Serves `listener` with strict limits (8 KiB request head, 10 s to send a request): a
 * malformed request gets a 400 (431 for an oversized head) and its connection closes; it
 * never reaches the listener and never throws. A Unix socket is created with mode 0600
 * (umask held while it binds); a leftover socket file with nobody behind it is replaced,
 * a live one is KS_ERR_AGENT_LOCKED.
 */
export async function listen(config: ListenConfig, listener: RequestListener): Promise<Listening> {
  const server = createServer({ maxHeaderSize: AGENT_MAX_HEADER_BYTES, requestTimeout: 10_000, headersTimeout: 5_000 }, listener);
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = JSON.stringify({ error: { code: 'bad_request', message: 'the request is not valid HTTP/1.1 within the limits' } });
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  if ('socket' in config) {
    const path = config.socket;
    const existing = await lstat(path).catch(() => undefined);
    if (existing !== undefined) {
      if (!existing.isSocket()) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${path} exists and is not a socket: choose another path`);
      if (await inUse(path)) throw new KeyshiftError(ErrorCodes.AGENT_LOCKED, `another process serves ${path}: give each agent its own socket`);
      await unlink(path);
    }
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
    } catch (error) {
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `cannot listen on ${path} (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`, { cause: error });
    } finally {
      process.umask(umask);
    }
    await chmod(path, 0o600);
    return { server, address: `unix:${path}`, close: () => closeServer(server) };
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  }).catch((error: unknown) => {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `cannot listen on ${config.host}:${config.port} (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`, { cause: error });
  });
  const info = server.address() as AddressInfo;
  const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
  return { server, address: `http://${host}:${info.port}`, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
