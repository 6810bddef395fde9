import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FleetReport, parseFleetReport, summarizeFleet } from '../../src/fleet/index.ts';

const report = (instanceId: string, version: string | undefined, sentAt = 1): FleetReport => ({
  instance: { instanceId, service: 'svc' },
  sentAt,
  reason: 'interval',
  entries: [{ manager: 'svc', name: 'API_KEY', version }],
});

describe('Fleet reports', () => {
  it('the newest report of each instance counts; instances not on the newest version lag (numbers compared as numbers)', () => {
    const summary = summarizeFleet([report('a', '9', 1), report('a', '10', 2), report('b', '9'), report('c', '10'), report('d', undefined)]);
    assert.equal(summary.instances.length, 4);
    const [entry] = summary.entries;
    assert.equal(entry?.newest, '10');
    assert.deepEqual(entry?.byVersion, { 10: ['a', 'c'], 9: ['b'], none: ['d'] });
    assert.deepEqual(entry?.lagging, ['b', 'd']);
  });

  it('parses what a reporter sends and refuses anything else', () => {
    const good = report('a', '3');
    assert.deepEqual(parseFleetReport(Buffer.from(JSON.stringify(good))), good);
    for (const bad of ['not json', '{}', JSON.stringify({ ...good, reason: 'because' }), JSON.stringify({ ...good, instance: {} })]) {
      assert.equal(parseFleetReport(bad), undefined, bad);
    }
  });
});
