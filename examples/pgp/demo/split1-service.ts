/**
 * PGP_SPLIT1_v1, the orchestrator: takes the platform fee (TP_FLAT_FEE, a decimal
 * percentage) and asks SPLIT2 for an estimate at PGP_SPLIT2_URL, both read per request.
 */
import type { RequestListener } from 'node:http';
import Big from 'big.js';
import type { Keyshift } from 'keyshift';
import type { secrets } from '../catalog/pgp-split1.ts';
import { amountOf, handle, readJson, sendJson } from './_http.ts';
import { successUrlRing, verifySigned } from './_signing.ts';

/** POST /payment {amountUsd}: fee, net amount, SPLIT2's signed estimate, and the queues the next steps go to. */
export function split1Listener(ks: Keyshift<typeof secrets>): RequestListener {
  const ring = successUrlRing(ks);
  return handle(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/payment') return sendJson(res, 404, { error: 'not found' });
    const amount = amountOf(await readJson(req), 'amountUsd');
    if (amount === undefined) return sendJson(res, 400, { error: 'amountUsd must be a decimal string' });
    const fee = new Big(amount).times(ks.get('TP_FLAT_FEE')).div(100).round(2);
    const net = new Big(amount).minus(fee).toFixed(2);
    const response = await fetch(new URL('estimate', ks.get('PGP_SPLIT2_URL')), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amountUsd: net }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => ({}))) as { payload?: string; signature?: string };
    if (!response.ok || typeof body.payload !== 'string' || typeof body.signature !== 'string') {
      return sendJson(res, 502, { error: `PGP_SPLIT2_v1 answered ${response.status}` });
    }
    if (!(await verifySigned(ring(), body.payload, body.signature))) {
      return sendJson(res, 502, { error: 'PGP_SPLIT2_v1 sent a bad signature' });
    }
    const estimate = JSON.parse(body.payload) as { toAmount: string };
    sendJson(res, 200, {
      feeUsd: fee.toFixed(2),
      netUsd: net,
      toAmountEth: estimate.toAmount,
      estimateQueue: ks.get('PGP_SPLIT2_ESTIMATE_QUEUE'),
      swapQueue: ks.get('PGP_SPLIT3_SWAP_QUEUE'),
      hostpayQueue: ks.get('PGP_HOSTPAY_TRIGGER_QUEUE'),
    });
  });
}
