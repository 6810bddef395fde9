/**
 * A Telegram Bot API client in the pilot pattern: it holds the manager, not the token,
 * and reads TELEGRAM_BOT_API_TOKEN on every call, so a revoked-and-reissued token
 * (BotFather /revoke) reaches the next message without a restart.
 */
import type { Secret } from 'keyshift';
import { ProviderError } from './provider-error.ts';

/** What the client needs of a manager: any manager declaring TELEGRAM_BOT_API_TOKEN. */
export interface TelegramTokenHolder {
  get(name: 'TELEGRAM_BOT_API_TOKEN'): Secret<string>;
}

export interface TelegramClientOptions {
  /** The service's manager. The client reads the token from it on every call. */
  secrets: TelegramTokenHolder;
  /** API root, without a trailing slash. Default 'https://api.telegram.org'. */
  baseUrl?: string;
  /** Deadline of one HTTP call. Default 10,000 ms. */
  timeoutMs?: number;
}

export interface TelegramClient {
  /** POST /bot<token>/sendMessage; resolves the new message's id. */
  sendMessage(chatId: string | number, text: string): Promise<number>;
  /** GET /bot<token>/getMe; resolves the bot's user name. */
  getMe(): Promise<string>;
}

export function telegramClient(options: TelegramClientOptions): TelegramClient {
  const baseUrl = options.baseUrl ?? 'https://api.telegram.org';
  const timeoutMs = options.timeoutMs ?? 10_000;

  const call = async (method: string, body?: Record<string, unknown>): Promise<Record<string, unknown>> => {
    // The token is part of the path, so the URL is built per call and never logged.
    const token = options.secrets.get('TELEGRAM_BOT_API_TOKEN').reveal();
    const response = await fetch(`${baseUrl}/bot${token}/${method}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((cause: unknown) => {
      throw new ProviderError('telegram', method, 0, cause);
    });
    const payload = (await response.json().catch(() => ({}))) as { ok?: boolean; result?: Record<string, unknown> };
    if (!response.ok || payload.ok !== true || payload.result === undefined) {
      throw new ProviderError('telegram', method, response.status);
    }
    return payload.result;
  };

  return {
    async sendMessage(chatId, text) {
      const result = await call('sendMessage', { chat_id: chatId, text });
      return Number(result.message_id);
    },
    async getMe() {
      const result = await call('getMe');
      return String(result.username);
    },
  };
}
