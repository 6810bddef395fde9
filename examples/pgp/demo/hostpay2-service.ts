/** PGP_HOSTPAY2_v1: the ChangeNow status checker, a second service on the rotating key. */
import type { RequestListener } from 'node:http';
import type { Keyshift } from 'keyshift';
import type { secrets } from '../catalog/pgp-hostpay2.ts';
import type { ChangeNowClient } from '../clients/changenow-client.ts';
import { handle, sendJson } from './_http.ts';

/** GET /status?id=...: the exchange's status, and where HOSTPAY1 expects the answer. */
export function hostpay2Listener(ks: Keyshift<typeof secrets>, changeNow: ChangeNowClient): RequestListener {
  return handle(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const id = url.searchParams.get('id') ?? '';
    if (req.method !== 'GET' || url.pathname !== '/status') return sendJson(res, 404, { error: 'not found' });
    if (!/^[\w-]{1,64}$/.test(id)) return sendJson(res, 400, { error: 'id is required' });
    const { status } = await changeNow.exchangeStatus(id);
    sendJson(res, 200, { id, status, replyQueue: ks.get('PGP_HOSTPAY1_RESPONSE_QUEUE'), replyTo: ks.get('PGP_HOSTPAY1_URL') });
  });
}
