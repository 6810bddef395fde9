import type { LocalStore } from 'keyshift/local-store';
import { dummyValues } from './dummy-values.ts';

/**
 * Puts a dummy value for every catalog secret the store does not hold yet (a kept
 * `.keyshift/demo` store is reused as it is), and a fresh CHANGENOW_API_KEY every time,
 * so the ChangeNow stand-in can start from the store's current key. Returns that key.
 */
export async function seedStore(store: LocalStore): Promise<{ seeded: number; changeNowKey: string }> {
  const values = dummyValues();
  const present = new Set((await store.list()).filter((s) => s.latest !== undefined).map((s) => s.name));
  let seeded = 0;
  for (const [name, value] of Object.entries(values)) {
    if (present.has(name) && name !== 'CHANGENOW_API_KEY') continue;
    await store.put(name, value);
    seeded++;
  }
  return { seeded, changeNowKey: values.CHANGENOW_API_KEY };
}
