/**
 * keyshift's metrics through OpenTelemetry (`@opentelemetry/api`, an optional peer; bring
 * your own SDK and exporter), and one span per store call. The same metrics as the
 * Prometheus registry of the admin handler: named so that an OpenTelemetry Prometheus
 * exporter renders the same series (`keyshift_fetches` -> `keyshift_fetches_total`,
 * `keyshift_fetch_duration` in seconds -> `keyshift_fetch_duration_seconds`). Attributes
 * come from closed sets (manager and entry names, categories, source kinds, outcomes,
 * triggers, error codes): never a value.
 */
import type { Attributes, Meter, ObservableResult, Tracer } from '@opentelemetry/api';
import { loadOptionalPeer } from '../_optional-peer.ts';
import type { EntryStatus } from '../core/entry-state.ts';
import type { Disposer } from '../types.ts';
import type { AdminManager } from './types.ts';

/** What the instrumentation reads from a manager (a `Keyshift` has all of it). */
export type InstrumentedManager = Pick<AdminManager, 'name' | 'entries' | 'isReady' | 'status' | 'on'>;

export interface OpenTelemetryOptions {
  /** The meter to record on. Default: `metrics.getMeter('keyshift')` from the global MeterProvider. */
  meter?: Meter;
  /** The tracer for store-call spans. Default: `trace.getTracer('keyshift')`; `false` for no spans. */
  tracer?: Tracer | false;
}

export interface OpenTelemetryInstrumentation {
  /** Stops recording (unsubscribes from the managers and the observable gauges). */
  close(): void;
}

const SPAN_NAME = 'keyshift.fetch';

/**
 * Publishes the managers' metrics on an OpenTelemetry meter and a span per store call
 * (`keyshift.fetch`, with the entry, source, trigger, outcome and error code). Imports
 * `@opentelemetry/api` now: without it, rejects with KS_ERR_PEER_MISSING.
 */
export async function instrumentOpenTelemetry(
  managers: InstrumentedManager | readonly InstrumentedManager[],
  options: OpenTelemetryOptions = {},
): Promise<OpenTelemetryInstrumentation> {
  const api = await loadOptionalPeer('@opentelemetry/api', 'keyshift/opentelemetry', () => import('@opentelemetry/api'));
  const list: readonly InstrumentedManager[] = Array.isArray(managers) ? managers : [managers as InstrumentedManager];
  const meter = options.meter ?? api.metrics.getMeter('keyshift');
  const tracer = options.tracer === false ? undefined : (options.tracer ?? api.trace.getTracer('keyshift'));

  const fetches = meter.createCounter('keyshift_fetches', {
    description: 'Store fetches by entry and outcome (changed, unchanged, rejected, not-found, error).',
  });
  const duration = meter.createHistogram('keyshift_fetch_duration', {
    description: 'Store fetch duration.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
  });
  const refreshes = meter.createCounter('keyshift_refreshes', {
    description: 'Fetches by what triggered them (startup, ttl, retry, push, admin, manual, recheck).',
  });
  const rejected = meter.createCounter('keyshift_rejected_versions', {
    description: 'Versions refused by their type or validator; the previous value stayed.',
  });
  const errors = meter.createCounter('keyshift_errors', {
    description: 'Error events: failed fetches and failures of background work (listeners, timers, pushes).',
  });
  const accesses = meter.createCounter('keyshift_store_accesses', { description: 'Store access calls (what Secret Manager bills).' });

  const perEntry = (name: string, description: string, unit: string | undefined, read: (e: EntryStatus) => number | undefined) => {
    const gauge = meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) });
    const callback = (result: ObservableResult<Attributes>): void => {
      for (const ks of list) {
        for (const entry of ks.status().entries) {
          const value = read(entry);
          if (value !== undefined) result.observe(value, { manager: ks.name, entry: entry.name, category: entry.category });
        }
      }
    };
    gauge.addCallback(callback);
    return () => gauge.removeCallback(callback);
  };
  const perManager = (name: string, description: string, read: (ks: InstrumentedManager) => number) => {
    const gauge = meter.createObservableGauge(name, { description });
    const callback = (result: ObservableResult<Attributes>): void => {
      for (const ks of list) result.observe(read(ks), { manager: ks.name });
    };
    gauge.addCallback(callback);
    return () => gauge.removeCallback(callback);
  };

  const disposers: Disposer[] = [
    perEntry('keyshift_value_age', 'Seconds since the value was last fetched successfully.', 's', (e) => (e.ageMs === undefined ? undefined : e.ageMs / 1000)),
    perEntry('keyshift_stale', '1 while refreshes fail and the last-known-good value is served.', undefined, (e) => (e.kind === 'dynamic' ? Number(e.stale) : undefined)),
    perEntry('keyshift_stale_exceeded', '1 once the value is older than its maxStale.', undefined, (e) => (e.kind === 'dynamic' ? Number(e.staleExceeded) : undefined)),
    perEntry('keyshift_fail_closed', '1 while reads of a fail-closed entry throw.', undefined, (e) => (e.kind === 'dynamic' ? Number(e.failClosed) : undefined)),
    perManager('keyshift_ready', '1 once ready() resolved.', (ks) => Number(ks.isReady)),
    perManager('keyshift_reads_outside_snapshot', 'Reads made while request snapshots were active but outside any.', (ks) => ks.status().readsOutsideSnapshot),
  ];

  for (const ks of list) {
    const categories = new Map(ks.entries.map((e) => [e.name, e.category]));
    const manager = ks.name;
    disposers.push(
      ks.on('fetch', (e) => {
        const category = categories.get(e.name);
        if (category === undefined) return;
        fetches.add(1, { manager, entry: e.name, category, source: e.source, outcome: e.outcome });
        duration.record(e.durationMs / 1000, { manager, entry: e.name, source: e.source });
        refreshes.add(1, { manager, entry: e.name, trigger: e.trigger });
        accesses.add(1, { manager, source: e.source });
        if (tracer) {
          // the fetch event comes when the call ended: the span gets its real start and end
          const end = Date.now();
          const span = tracer.startSpan(SPAN_NAME, {
            kind: api.SpanKind.CLIENT,
            startTime: end - e.durationMs,
            attributes: {
              'keyshift.manager': manager,
              'keyshift.entry': e.name,
              'keyshift.category': category,
              'keyshift.source': e.source,
              'keyshift.trigger': e.trigger,
              'keyshift.outcome': e.outcome,
              ...(e.code === undefined ? {} : { 'keyshift.error_code': e.code }),
              ...(e.fallbackCode === undefined ? {} : { 'keyshift.fallback_code': e.fallbackCode }),
            },
          });
          if (e.outcome === 'error' || e.outcome === 'rejected') span.setStatus({ code: api.SpanStatusCode.ERROR, message: e.code ?? e.outcome });
          span.end(end);
        }
      }),
      ks.on('rejected', (e) => {
        const category = categories.get(e.name);
        if (category !== undefined) rejected.add(1, { manager, entry: e.name, category });
      }),
      ks.on('error', () => errors.add(1, { manager })),
    );
  }
  return {
    close() {
      for (const dispose of disposers.splice(0)) dispose();
    },
  };
}
