import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { instrumentOpenTelemetry } from 'keyshift/opentelemetry';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { memorySource } from '../../src/sources/memory.ts';

function otel() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // a long interval: the test collects with forceFlush, never on a timer
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  return {
    meter: meterProvider.getMeter('keyshift-test'),
    tracer: tracerProvider.getTracer('keyshift-test'),
    spans,
    async collect() {
      exporter.reset();
      await reader.forceFlush();
      const points = new Map<string, Array<{ attributes: Record<string, unknown>; value: unknown }>>();
      for (const resource of exporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) {
          for (const metric of scope.metrics) {
            points.set(
              metric.descriptor.name,
              metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })),
            );
          }
        }
      }
      return points;
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

describe('OpenTelemetry: the same metrics through @opentelemetry/api, a span per store call', () => {
  it('counts fetches, rejections and errors, observes ages and readiness, and traces each store call, with no value anywhere', async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    const source = memorySource({ values: { API_KEY: canary, FEE: '1.5' } });
    const ks = createKeyshift(
      defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' }, FEE: { type: t.decimal({ min: 0 }), category: 'app-config' } }),
      { source, logger: false, name: 'payments' },
    );
    const o = otel();
    const instrumentation = await instrumentOpenTelemetry(ks, { meter: o.meter, tracer: o.tracer });
    try {
      await ks.ready();
      source.set('FEE', '-1'); // refused by its type: the old value stays
      await ks.refresh('FEE');
      source.fail({ code: 'KS_ERR_SOURCE_UNAVAILABLE' });
      await ks.refresh('API_KEY');

      const points = await o.collect();
      const fetches = points.get('keyshift_fetches') ?? [];
      const count = (entry: string, outcome: string) =>
        fetches.filter((p) => p.attributes.entry === entry && p.attributes.outcome === outcome).reduce((n, p) => n + Number(p.value), 0);
      assert.equal(count('API_KEY', 'changed'), 1);
      assert.equal(count('FEE', 'changed'), 1);
      assert.equal(count('FEE', 'rejected'), 1);
      assert.equal(count('API_KEY', 'error'), 1);
      assert.deepEqual(fetches.find((p) => p.attributes.entry === 'API_KEY')?.attributes, {
        manager: 'payments',
        entry: 'API_KEY',
        category: 'api-key',
        source: 'memory',
        outcome: 'changed',
      });
      assert.equal(points.get('keyshift_rejected_versions')?.[0]?.value, 1);
      assert.ok(Number(points.get('keyshift_errors')?.[0]?.value) >= 1);
      assert.equal((points.get('keyshift_fetch_duration') ?? []).length > 0, true);
      assert.deepEqual(points.get('keyshift_ready'), [{ attributes: { manager: 'payments' }, value: 1 }]);
      const stale = points.get('keyshift_stale') ?? [];
      assert.equal(stale.find((p) => p.attributes.entry === 'API_KEY')?.value, 1, 'API_KEY is served stale while the store fails');
      assert.equal((points.get('keyshift_value_age') ?? []).length, 2);

      const spans = o.spans.getFinishedSpans();
      assert.equal(spans.length, 4, 'one span per store call: two at start-up, two refreshes');
      assert.ok(spans.every((s) => s.name === 'keyshift.fetch'));
      const failed = spans.find((s) => s.attributes['keyshift.outcome'] === 'error');
      assert.equal(failed?.attributes['keyshift.error_code'], 'KS_ERR_SOURCE_UNAVAILABLE');
      assert.equal(failed?.status.code, 2, 'ERROR');
      assert.equal(spans.find((s) => s.attributes['keyshift.trigger'] === 'startup')?.attributes['keyshift.entry'] !== undefined, true);

      const everything = JSON.stringify([...points.values()]) + JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));
      assert.ok(!everything.includes(canary), 'no value in any attribute');
      assert.ok(!everything.includes('-1"'), 'not the rejected value either');

      instrumentation.close();
      source.fail(undefined);
      await ks.refresh('API_KEY');
      assert.equal(o.spans.getFinishedSpans().length, 4, 'nothing recorded after close()');
    } finally {
      instrumentation.close();
      await ks.close();
      await o.shutdown();
    }
  });
});
