/**
 * A Pub/Sub push endpoint for Secret Manager's `SECRET_ROTATE` reminders: the web
 * handler the scheduler hands out. Notifications that change values go to
 * gcpPubSubPushHandler (which ignores SECRET_ROTATE); this one acts only on the
 * rotation reminder. It answers 204 once the rotation has started: the rotation
 * records its own progress and failures in the store, and the scheduler retries.
 */
import { DEFAULT_PUSH_MAX_BODY_BYTES } from '../../constants.ts';
import { SECRET_RESOURCE } from '../../gcp/resource-names.ts';
import { readBody } from '../../http/read-body.ts';
import { createPushTokenCheck } from '../../http/push-token.ts';

/** A SECRET_ROTATE notification as the scheduler acts on it. */
export interface RotateNotification {
  /** `projects/{p}/secrets/{s}`. */
  secretId: string;
  /** When Pub/Sub published it (wall-clock ms); a rotation made since then already answered it. */
  publishTime?: number;
  messageId?: string;
}

export interface RotatePushOptions {
  /** Shared secret, as the push URL's `?token=` or `Authorization: Bearer`. At least 16 characters. */
  token: string;
  /** Largest body accepted. Default 64 KiB. */
  maxBodyBytes?: number;
}

const reply = (status: number, error?: string): Response =>
  error === undefined ? new Response(null, { status }) : Response.json({ error }, { status });

/** Reads a push envelope down to the notification, or says what is wrong with it (never echoing it). */
export function parseRotateEnvelope(text: string): RotateNotification | 'ignore' | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  const message = (body as { message?: unknown } | null)?.message as Record<string, unknown> | undefined;
  if (typeof message !== 'object' || message === null) return 'message is missing';
  const attributes = message.attributes as Record<string, unknown> | undefined;
  if (typeof attributes !== 'object' || attributes === null) return 'message.attributes must be an object';
  if (attributes.eventType !== 'SECRET_ROTATE') return 'ignore';
  const { secretId } = attributes;
  if (typeof secretId !== 'string' || !SECRET_RESOURCE.test(secretId)) return 'attributes.secretId is not a secret resource name';
  const published = Date.parse(String(message.publishTime ?? message.publish_time ?? ''));
  const messageId = message.messageId ?? message.message_id;
  return {
    secretId,
    ...(Number.isFinite(published) ? { publishTime: published } : {}),
    ...(typeof messageId === 'string' ? { messageId } : {}),
  };
}

export function rotatePushHandler(options: RotatePushOptions, onRotate: (notification: RotateNotification) => void): (request: Request) => Promise<Response> {
  const checkToken = createPushTokenCheck(options.token);
  const maxBytes = options.maxBodyBytes ?? DEFAULT_PUSH_MAX_BODY_BYTES;
  return async (request) => {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const verdict = checkToken(request);
    if (!verdict.ok) {
      await request.body?.cancel().catch(() => {});
      return reply(verdict.status, verdict.error);
    }
    const body = await readBody(request, maxBytes);
    if (!body.ok) return reply(body.status, body.message);
    const parsed = parseRotateEnvelope(body.text);
    if (parsed === 'ignore') return reply(204);
    if (typeof parsed === 'string') return reply(400, parsed);
    onRotate(parsed);
    return reply(204);
  };
}
