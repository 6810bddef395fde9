/**
 * PGP_SPLIT2_v1, the pilot: ChangeNow estimates. It holds a ChangeNow client built on
 * its manager, so each estimate uses whatever key the store holds now.
 */
import type { RequestListener } from 'node:http';
import type { Keyshift } from 'keyshift';
import type { secrets } from '../catalog/pgp-split2.ts';
import type { ChangeNowClient } from '../clients/changenow-client.ts';
import { amountOf, handle, readJson, sendJson } from './_http.ts';
import { successUrlRing } from './_signing.ts';

/** POST /estimate {amountUsd}: asks ChangeNow, answers with a payload signed for SPLIT1. */
export function split2Listener(ks: Keyshift<typeof secrets>, changeNow: ChangeNowClient): RequestListener {
  const ring = successUrlRing(ks);
  return handle(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/estimate') return sendJson(res, 404, { error: 'not found' });
    const amount = amountOf(await readJson(req), 'amountUsd');
    if (amount === undefined) return sendJson(res, 400, { error: 'amountUsd must be a decimal string' });
    const estimate = await changeNow.estimate({ from: 'usdt', to: 'eth', amount });
    const payload = JSON.stringify({
      amountUsd: amount,
      toAmount: estimate.toAmount,
      replyQueue: ks.get('PGP_SPLIT2_RESPONSE_QUEUE'),
      replyTo: ks.get('PGP_SPLIT1_URL'),
    });
    sendJson(res, 200, { payload, signature: ring().sign(payload) });
  });
}
