/**
 * A failed call to a third-party API. The message names the provider, the path and the
 * HTTP status only: never the URL (Telegram puts its token in the path), a header or a
 * body, and the network error's own message is not copied (it may quote the URL).
 */
export class ProviderError extends Error {
  /** The HTTP status, or 0 when no response arrived (network error, timeout). */
  readonly status: number;
  readonly provider: string;

  constructor(provider: string, path: string, status: number, cause?: unknown) {
    const what = status === 0 ? `no response (${cause instanceof Error ? cause.name : 'error'})` : `HTTP ${status}`;
    super(`${provider} ${path}: ${what}`);
    this.name = 'ProviderError';
    this.provider = provider;
    this.status = status;
  }
}
