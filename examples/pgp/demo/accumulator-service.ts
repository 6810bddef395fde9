/** PGP_ACCUMULATOR_v1: routes a payment (fee, queues, URLs, payout wallet), all read per request. */
import type { RequestListener } from 'node:http';
import Big from 'big.js';
import type { Keyshift } from 'keyshift';
import type { secrets } from '../catalog/pgp-accumulator.ts';
import { amountOf, handle, readJson, sendJson } from './_http.ts';
import { successUrlRing } from './_signing.ts';

/** POST /accumulate {amountUsd}: the routing decision, signed for the next hop. */
export function accumulatorListener(ks: Keyshift<typeof secrets>): RequestListener {
  const ring = successUrlRing(ks);
  return handle(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/accumulate') return sendJson(res, 404, { error: 'not found' });
    const amount = amountOf(await readJson(req), 'amountUsd');
    if (amount === undefined) return sendJson(res, 400, { error: 'amountUsd must be a decimal string' });
    const fee = new Big(amount).times(ks.get('TP_FLAT_FEE')).div(100).round(2);
    const payload = JSON.stringify({
      netUsd: new Big(amount).minus(fee).toFixed(2),
      wallet: ks.get('HOST_WALLET_USDT_ADDRESS'),
      estimate: { queue: ks.get('PGP_SPLIT2_ESTIMATE_QUEUE'), url: ks.get('PGP_SPLIT2_URL') },
      swap: { queue: ks.get('PGP_SPLIT3_SWAP_QUEUE'), url: ks.get('PGP_SPLIT3_URL') },
      payout: { queue: ks.get('PGP_HOSTPAY_TRIGGER_QUEUE'), url: ks.get('PGP_HOSTPAY1_URL') },
    });
    sendJson(res, 200, { payload, signature: ring().sign(payload) });
  });
}
