// One instance of a fleet for the rotation race test: on `go`, it runs the rotation of
// the named secret with the condition given, and answers the outcome (never a value).
import { openLocalStore } from '../../src/local-store/index.ts';
import { randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import { createRotationRunner, type RotationCondition } from '../../src/rotation/staged/rotation-runner.ts';

const [dir, name] = process.argv.slice(2) as [string, string];
const store = await openLocalStore({ dir });
const runner = createRotationRunner({ store, logger: false });
const rotator = randomSecret();

process.on('message', async (message: { type: 'go'; condition: RotationCondition } | { type: 'stop' }) => {
  if (message.type === 'stop') {
    await store.close();
    process.disconnect?.();
    return;
  }
  const result = await runner.run(name, rotator, message.condition);
  process.send?.({ type: 'result', outcome: result.outcome, version: result.version, code: result.error?.code });
});
process.send?.({ type: 'ready' });
