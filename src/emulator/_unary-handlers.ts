/**
 * Puts the async service functions behind @grpc/grpc-js unary handlers, with the
 * fault injector in front: latency, injected statuses, hangs (held until the client
 * gives up or the emulator closes) and checksum tampering. Counts calls per method.
 */
import type { ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import { StatusError } from './_status.ts';
import type { FaultInjector } from './fault-injection.ts';
import { SERVICE_METHODS, type ServiceHandlers, type ServiceMethod } from './secret-manager-service.ts';

type Callback = sendUnaryData<unknown>;

export interface UnaryHandlers {
  implementation: UntypedServiceImplementation;
  /** Calls received per method, faulted ones included. */
  counts: Map<ServiceMethod, number>;
  /** Answers every held or delayed call with UNAVAILABLE and refuses new ones. */
  releaseAll(): void;
}

interface AccessResponse {
  payload?: { dataCrc32c?: string | null };
}

export function createUnaryHandlers(handlers: ServiceHandlers, faults: FaultInjector): UnaryHandlers {
  const counts = new Map<ServiceMethod, number>();
  /** Held (hanging) and delayed calls: each entry ends its call with the given error. */
  const parked = new Set<(error: StatusError) => void>();
  let closed = false;
  const closing = (): StatusError => new StatusError('UNAVAILABLE', 'The emulator is shutting down.');

  /** Waits `ms`; resolves false when the emulator closed meanwhile (the call was answered). */
  const delay = (ms: number, callback: Callback): Promise<boolean> =>
    new Promise((resolve) => {
      const release = (error: StatusError): void => {
        clearTimeout(timer);
        callback(error);
        resolve(false);
      };
      const timer = setTimeout(() => {
        parked.delete(release);
        resolve(true);
      }, ms);
      parked.add(release);
    });

  async function serve(method: ServiceMethod, call: ServerUnaryCall<unknown, unknown>, callback: Callback) {
    counts.set(method, (counts.get(method) ?? 0) + 1);
    if (closed) return callback(closing());
    const fault = faults.take(method);
    if (fault?.latencyMs && !(await delay(fault.latencyMs, callback))) return;
    if (fault?.hang) {
      const release = (error: StatusError): void => callback(error);
      parked.add(release);
      call.once('cancelled', () => parked.delete(release));
      return;
    }
    if (fault?.code !== undefined) {
      return callback(new StatusError(fault.code, `${fault.code} injected by the keyshift emulator (${method}).`));
    }
    try {
      const response = await handlers[method](call.request as Record<string, unknown>);
      const payload = (response as AccessResponse).payload;
      if (method === 'AccessSecretVersion' && payload && fault?.checksum) {
        // A wrong checksum differs from the right one in its lowest bit.
        payload.dataCrc32c = fault.checksum === 'omit' ? null : String(Number(payload.dataCrc32c) ^ 1);
      }
      callback(null, response);
    } catch (error) {
      callback(error instanceof StatusError ? error : new StatusError('INTERNAL', `Internal error in ${method}.`));
    }
  }

  const implementation: UntypedServiceImplementation = {};
  for (const method of SERVICE_METHODS) {
    implementation[method] = (call: ServerUnaryCall<unknown, unknown>, callback: Callback) => {
      serve(method, call, callback).catch(() => callback(new StatusError('INTERNAL', `Internal error in ${method}.`)));
    };
  }

  return {
    implementation,
    counts,
    releaseAll() {
      closed = true;
      for (const release of parked) release(closing());
      parked.clear();
    },
  };
}
