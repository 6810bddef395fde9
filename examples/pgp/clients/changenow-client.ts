/**
 * The pilot pattern as code: the ChangeNow client is given the service's keyshift
 * manager, not the key, and asks for the key on every call. A rotated key reaches the
 * next call, with no restart and no client to rebuild.
 */
import type { RefreshResult, Secret } from 'keyshift';
import { ProviderError } from './provider-error.ts';

/** What the client needs of a manager. Any `createKeyshift()` manager declaring CHANGENOW_API_KEY fits. */
export interface ChangeNowKeyHolder {
  get(name: 'CHANGENOW_API_KEY'): Secret<string>;
  refresh(names: 'CHANGENOW_API_KEY', options?: { trigger?: 'manual' }): Promise<RefreshResult[]>;
}

export interface ChangeNowClientOptions {
  /** The service's manager. The client reads CHANGENOW_API_KEY from it on every call. */
  secrets: ChangeNowKeyHolder;
  /** API root, without a trailing slash. Default 'https://api.changenow.io/v2'. */
  baseUrl?: string;
  /** Deadline of one HTTP call. Default 10,000 ms. */
  timeoutMs?: number;
  /**
   * On a 401, force one refresh of the key (the provider may have rotated it before the
   * store told us) and retry once. Default true. The demo turns it off to show that push
   * alone carries every rotation.
   */
  refreshOnUnauthorized?: boolean;
}

export interface EstimateRequest {
  /** Currency paid in, e.g. 'usdt'. */
  from: string;
  /** Currency paid out, e.g. 'eth'. */
  to: string;
  /** Amount of `from`, as a decimal string (money is never a binary float). */
  amount: string;
}

export interface Estimate {
  fromAmount: string;
  toAmount: string;
}

export interface ExchangeStatus {
  id: string;
  status: string;
}

export interface ChangeNowClient {
  /** GET /exchange/estimated-amount. */
  estimate(request: EstimateRequest): Promise<Estimate>;
  /** GET /exchange/by-id. */
  exchangeStatus(id: string): Promise<ExchangeStatus>;
}

export function changeNowClient(options: ChangeNowClientOptions): ChangeNowClient {
  const baseUrl = options.baseUrl ?? 'https://api.changenow.io/v2';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retryOn401 = options.refreshOnUnauthorized ?? true;

  const call = async (path: string, query: Record<string, string>): Promise<Record<string, unknown>> => {
    const url = `${baseUrl}${path}?${new URLSearchParams(query)}`;
    const send = () =>
      fetch(url, {
        // The key is read here, at each call: never captured in a closure or a field.
        headers: { 'x-changenow-api-key': options.secrets.get('CHANGENOW_API_KEY').reveal() },
        signal: AbortSignal.timeout(timeoutMs),
      });
    let response = await send().catch((cause: unknown) => {
      throw new ProviderError('changenow', path, 0, cause);
    });
    if (response.status === 401 && retryOn401) {
      await response.body?.cancel();
      await options.secrets.refresh('CHANGENOW_API_KEY', { trigger: 'manual' });
      response = await send().catch((cause: unknown) => {
        throw new ProviderError('changenow', path, 0, cause);
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ProviderError('changenow', path, response.status);
    }
    return (await response.json()) as Record<string, unknown>;
  };

  return {
    async estimate({ from, to, amount }) {
      const body = await call('/exchange/estimated-amount', { fromCurrency: from, toCurrency: to, fromAmount: amount, flow: 'standard' });
      return { fromAmount: String(body.fromAmount), toAmount: String(body.toAmount) };
    },
    async exchangeStatus(id) {
      const body = await call('/exchange/by-id', { id });
      return { id: String(body.id), status: String(body.status) };
    },
  };
}
