// The typed facade: get() takes dynamic names only, `static` holds static names only,
// and both give each entry's own type.
import { createKeyshift, defineSecrets, type Keyshift, type RefreshResult, type Secret, type Snapshot, t } from 'keyshift';
import { memorySource } from 'keyshift/testing';
import { type Equal, expectType } from './_expect.ts';

const secrets = defineSecrets({
  CHANGENOW_API_KEY: { type: t.string(), category: 'api-key' },
  TP_FLAT_FEE: { type: t.decimal() },
  PGP_SPLIT2_URL: { type: t.url(), category: 'service-url' },
  SUCCESS_URL_SIGNING_KEY: { type: t.string(), category: 'signing-key', static: true },
  WORKERS: { type: t.int(), static: true },
});

export function facade(): void {
  const ks = createKeyshift(secrets, { source: memorySource({}) });
  expectType<Equal<typeof ks, Keyshift<typeof secrets>>>();

  expectType<Equal<ReturnType<typeof ks.get<'CHANGENOW_API_KEY'>>, Secret<string>>>();
  const url = ks.get('PGP_SPLIT2_URL');
  expectType<Equal<typeof url, string>>();
  const fee = ks.get('TP_FLAT_FEE');
  expectType<Equal<ReturnType<typeof fee.plus>, typeof fee>>();

  const signing = ks.static.SUCCESS_URL_SIGNING_KEY;
  expectType<Equal<typeof signing, Secret<string>>>();
  expectType<Equal<typeof ks.static.WORKERS, number>>();

  // @ts-expect-error a static entry is a property, not a get()
  ks.get('SUCCESS_URL_SIGNING_KEY');
  // @ts-expect-error an unknown name does not compile
  ks.get('CHANGENOW_API_KEYS');
  // @ts-expect-error a dynamic entry is not on `static`
  ks.static.TP_FLAT_FEE;
  // @ts-expect-error `static` is read-only
  ks.static.WORKERS = 2;

  const snapshot = ks.snapshot();
  expectType<Equal<typeof snapshot, Snapshot<typeof secrets>>>();
  expectType<Equal<ReturnType<typeof snapshot.get<'PGP_SPLIT2_URL'>>, string>>();
  // @ts-expect-error a snapshot holds dynamic entries only
  snapshot.get('WORKERS');

  const refreshed: Promise<RefreshResult[]> = ks.refresh(['TP_FLAT_FEE', 'PGP_SPLIT2_URL']);
  void refreshed;
  // @ts-expect-error a static entry is never refreshed
  void ks.refresh('WORKERS');

  ks.on('change', (event) => {
    expectType<Equal<typeof event.name, string>>();
  });
  // @ts-expect-error an unknown event does not compile
  ks.on('changed', () => {});
}

// @ts-expect-error a manager needs a source
createKeyshift(secrets, {});
