// The alert rules watching the rotation parts: a rotation step that fails raises one
// `rotation-failed` alert (value-free, the current version named as still in service),
// which resolves when that secret's rotation finishes; the rules' own listeners,
// log line and metric gauge see it like any other rule.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ALERT_RULES, type AlertEvent, createAlertRules } from '../../src/admin/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import { createRotationRunner, type Rotator } from '../../src/rotation/staged/rotation-runner.ts';

describe('Alert rules: rotation failures', () => {
  it('fires rotation-failed once per failing secret, without the pending value or the error detail, and resolves on finish', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-alert-rotation-'));
    const store = await openLocalStore({ dir });
    t.after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await store.put('WEBHOOK_SECRET', 'fake-webhook-0');
    const lines: string[] = [];
    const logger = { info: () => {}, warn: (_: object, msg: string) => void lines.push(msg), error: (_: object, msg: string) => void lines.push(msg) };
    const rules = createAlertRules([], { logger });
    t.after(() => rules.close());
    const events: AlertEvent[] = [];
    rules.on((e) => events.push(e));
    const runner = createRotationRunner({ store, logger: false });
    const dispose = rules.watchRotations('payments', runner);

    let refuse = true;
    const inner = randomSecret({ length: 32 });
    let created = '';
    const rotator: Rotator = {
      kind: inner.kind,
      async create(ctx) {
        created = String(await inner.create(ctx));
        return created;
      },
      async test() {
        if (refuse) throw new Error('receiver said no: fake-detail-that-must-not-leak');
      },
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      const failed = await runner.run('WEBHOOK_SECRET', rotator);
      assert.equal(failed.outcome, 'failed');
    }
    assert.equal(events.length, 1, 'two failed attempts of one secret are one incident');
    const fired = events[0]!;
    assert.equal(fired.state, 'firing');
    assert.equal(fired.alert.rule, 'rotation-failed');
    assert.equal(fired.alert.severity, 'warning');
    assert.equal(fired.alert.manager, 'payments');
    assert.equal(fired.alert.entry, 'WEBHOOK_SECRET');
    assert.match(fired.alert.message, /rotation \S+ of WEBHOOK_SECRET failed at stage test/);
    assert.deepEqual(rules.firing().map((a) => a.rule), ['rotation-failed']);
    assert.ok(ALERT_RULES.includes(fired.alert.rule));
    assert.equal(lines.length, 1, 'one log line');
    for (const leak of [created, 'fake-detail-that-must-not-leak', 'fake-webhook-0']) {
      assert.ok(leak.length > 0);
      assert.ok(!JSON.stringify(events).includes(leak) && !lines.join('\n').includes(leak), 'no value and no third-party detail in the alert');
    }

    refuse = false;
    const finished = await runner.run('WEBHOOK_SECRET', rotator);
    assert.equal(finished.outcome, 'finished', finished.error?.message);
    assert.deepEqual(events.map((e) => e.state), ['firing', 'resolved']);
    assert.deepEqual(rules.firing(), []);

    dispose();
    refuse = true;
    assert.equal((await runner.run('WEBHOOK_SECRET', rotator)).outcome, 'failed');
    assert.equal(events.length, 2, 'after its disposer ran, the runner is no longer watched');
  });
});
