/**
 * Secret Manager's rotation schedule in the emulator: CreateSecret and UpdateSecret
 * accept `rotation { next_rotation_time, rotation_period }` as the real API does, the
 * schedule is kept in the store (`extra.rotation`), and at each rotation time a
 * `SECRET_ROTATE` push envelope goes to every push subscription, carrying the secret
 * with its next rotation time. The real service asks for a next time at least 5 min
 * ahead and a period of at least 1 h; the emulator takes any positive period from
 * 100 ms (EMULATOR_MIN_ROTATION_PERIOD_MS) so tests can run a schedule in seconds.
 *
 * Wired into start-emulator.ts as a wrapper of the service handlers.
 */
import { EMULATOR_MIN_ROTATION_PERIOD_MS } from '../constants.ts';
import type { LocalStore, SecretInfo } from '../local-store/index.ts';
import { parseParent, parseSecretName, type SecretName } from './_resource-names.ts';
import { type SecretMessage, secretMessage, type Timestamp, timestamp, topicsOf } from './_resources.ts';
import { newSecretEtag, secretEtag } from './_secret-extra.ts';
import { invalidArgument, StatusError } from './_status.ts';
import type { SecretManagerEvent } from './push-publisher.ts';
import type { ServiceHandlers } from './secret-manager-service.ts';

/** The schedule as `extra.rotation` keeps it. */
interface ScheduleRecord {
  /** ISO time of the first (or only) rotation. */
  nextRotationTime: string;
  /** Period between rotations; absent for a single one. */
  rotationPeriodMs?: number;
}

interface Scheduled {
  record: ScheduleRecord;
  /** Undefined for a schedule found in the store at start: the served project. */
  project: string | undefined;
  /** Occurrences at or before this (wall-clock ms) were sent or are in the past. */
  sentUpTo: number;
}

export interface RotationScheduleOptions {
  store: LocalStore;
  /** Project named in messages about secrets the emulator found in the store at start (read when sent). */
  project: () => string;
  /** Sends an event to the push subscriptions (the emulator's publisher). */
  publish: (event: SecretManagerEvent) => void;
}

export interface RotationSchedule {
  /** The service handlers with rotation accepted, stored and reported. */
  wrap(handlers: ServiceHandlers): ServiceHandlers;
  /** SECRET_ROTATE messages sent so far. */
  readonly sent: number;
  close(): void;
}

type Request = Record<string, unknown>;
type Duration = { seconds?: string | number; nanos?: number };

const ROTATION_PATH = /^rotation(?:[._].*)?$/;
const msOfTimestamp = (t: Timestamp | undefined): number => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
const msOfDuration = (d: Duration | undefined): number => Number(d?.seconds ?? 0) * 1000 + Math.floor((d?.nanos ?? 0) / 1e6);

function recordOf(info: SecretInfo): ScheduleRecord | undefined {
  const raw = info.extra.rotation as Partial<ScheduleRecord> | undefined;
  if (typeof raw?.nextRotationTime !== 'string' || !Number.isFinite(Date.parse(raw.nextRotationTime))) return undefined;
  return typeof raw.rotationPeriodMs === 'number' ? { nextRotationTime: raw.nextRotationTime, rotationPeriodMs: raw.rotationPeriodMs } : { nextRotationTime: raw.nextRotationTime };
}

/** The first occurrence after `after`, or the last one not yet sent; undefined when a single rotation is past. */
function occurrenceAfter(record: ScheduleRecord, after: number): number | undefined {
  const first = Date.parse(record.nextRotationTime);
  if (first > after) return first;
  const period = record.rotationPeriodMs;
  if (period === undefined) return undefined;
  return first + (Math.floor((after - first) / period) + 1) * period;
}

/** Checks a `rotation` message as the real API does (minimums relaxed, see above). */
function parseRotation(rotation: Request, topics: number): ScheduleRecord {
  const next = rotation.nextRotationTime as Timestamp | undefined;
  const period = rotation.rotationPeriod as Duration | undefined;
  if (next === undefined) throw invalidArgument('rotation.next_rotation_time must be set when rotation is set.');
  if (topics === 0) throw invalidArgument('A secret with a rotation policy must have at least one topic.');
  const record: ScheduleRecord = { nextRotationTime: new Date(msOfTimestamp(next)).toISOString() };
  if (period !== undefined) {
    const ms = msOfDuration(period);
    if (!(ms >= EMULATOR_MIN_ROTATION_PERIOD_MS)) throw invalidArgument('rotation.rotation_period is too short.');
    record.rotationPeriodMs = ms;
  }
  return record;
}

export function rotationSchedule(options: RotationScheduleOptions): RotationSchedule {
  const { store } = options;
  const schedules = new Map<string, Scheduled>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let sent = 0;
  const started = Date.now();

  const loaded = store.list().then(
    (infos) => {
      for (const info of infos) {
        const record = recordOf(info);
        if (record && !schedules.has(info.name)) schedules.set(info.name, { record, project: undefined, sentUpTo: started });
      }
      arm();
    },
    () => undefined, // an unreadable store answers every call with its own error
  );

  /** The resource with its rotation, as gRPC answers carry it. */
  const withRotation = (message: SecretMessage, name: string): SecretMessage => {
    const scheduled = schedules.get(name);
    if (scheduled === undefined) return message;
    const next = occurrenceAfter(scheduled.record, Math.max(scheduled.sentUpTo, Date.now())) ?? Date.parse(scheduled.record.nextRotationTime);
    const period = scheduled.record.rotationPeriodMs;
    const rotation = {
      nextRotationTime: timestamp(new Date(next).toISOString()),
      ...(period === undefined ? {} : { rotationPeriod: { seconds: String(Math.floor(period / 1000)), nanos: (period % 1000) * 1e6 } }),
    };
    return { ...message, rotation } as SecretMessage;
  };

  function arm(): void {
    if (closed) return;
    clearTimeout(timer);
    let soonest = Number.POSITIVE_INFINITY;
    for (const s of schedules.values()) soonest = Math.min(soonest, occurrenceAfter(s.record, s.sentUpTo) ?? Number.POSITIVE_INFINITY);
    if (soonest === Number.POSITIVE_INFINITY) return;
    timer = setTimeout(fire, Math.min(Math.max(0, soonest - Date.now()), 2 ** 31 - 1));
    timer.unref();
  }

  async function fire(): Promise<void> {
    const now = Date.now();
    for (const [name, s] of schedules) {
      const due = occurrenceAfter(s.record, s.sentUpTo);
      if (due === undefined || due > now) continue;
      s.sentUpTo = now; // a late emulator sends one reminder, not one per missed period
      try {
        const info = await store.getSecret(name);
        const project = s.project ?? options.project();
        const secret: SecretName = { project, secret: name };
        const next = occurrenceAfter(s.record, now);
        const resource = secretMessage(project, info);
        // Push data is proto3 JSON: the rotation goes in that form (toProtoJson keeps nested objects as given).
        const rotation = {
          ...(next === undefined ? {} : { nextRotationTime: new Date(next).toISOString() }),
          ...(s.record.rotationPeriodMs === undefined ? {} : { rotationPeriod: `${s.record.rotationPeriodMs / 1000}s` }),
        };
        // SECRET_ROTATE is a secret event the publisher's type list predates; the envelope is built the same way.
        const event = { type: 'SECRET_ROTATE', secret, resource: { ...resource, rotation } } as unknown as SecretManagerEvent;
        options.publish(event);
        sent++;
      } catch {
        schedules.delete(name); // deleted since: no more reminders
      }
    }
    arm();
  }

  const schedule = (name: string, project: string, record: ScheduleRecord | undefined): void => {
    if (record === undefined) schedules.delete(name);
    else schedules.set(name, { record, project, sentUpTo: Number.NEGATIVE_INFINITY });
    arm();
  };

  /** Stores the schedule in the secret's extra (other keys kept) and arms it; `update`: as an UpdateSecret (a new etag). */
  const save = async (name: SecretName, record: ScheduleRecord | undefined, update: boolean): Promise<void> => {
    const info = await store.getSecret(name.secret);
    const { rotation: _old, ...rest } = info.extra;
    if (update) rest.etag = newSecretEtag();
    await store.updateSecret(name.secret, { extra: record === undefined ? rest : { ...rest, rotation: record } });
    schedule(name.secret, name.project, record);
  };

  return {
    get sent() {
      return sent;
    },
    wrap(handlers) {
      return {
        ...handlers,
        async CreateSecret(request) {
          await loaded;
          const given = (request.secret ?? {}) as Request;
          const rotation = given.rotation as Request | undefined;
          const topics = Array.isArray(given.topics) ? given.topics.length : 0;
          const record = rotation === undefined || rotation === null ? undefined : parseRotation(rotation, topics);
          const resource = (await handlers.CreateSecret({ ...request, secret: { ...given, rotation: undefined } })) as SecretMessage;
          if (record === undefined) return resource;
          const { project } = parseParent(request.parent);
          await save({ project, secret: String(request.secretId) }, record, false);
          return withRotation(resource, String(request.secretId));
        },
        async UpdateSecret(request) {
          await loaded;
          const given = (request.secret ?? {}) as Request;
          const mask = ((request.updateMask as { paths?: string[] } | undefined)?.paths ?? []).map(String);
          const rotationPaths = mask.filter((p) => ROTATION_PATH.test(p));
          if (rotationPaths.length === 0) return withRotation((await handlers.UpdateSecret(request)) as SecretMessage, parseSecretName(given.name).secret);
          const name = parseSecretName(given.name);
          const rest = mask.filter((p) => !ROTATION_PATH.test(p));
          const current = (await handlers.GetSecret({ name: given.name })) as SecretMessage;
          if (typeof given.etag === 'string' && given.etag !== '' && given.etag !== current.etag) {
            throw new StatusError('FAILED_PRECONDITION', `The etag of [${current.name}] does not match; read it again and retry.`);
          }
          const topics = rest.includes('topics') ? ((given.topics as unknown[] | undefined)?.length ?? 0) : topicsOf(await store.getSecret(name.secret)).length;
          const rotation = given.rotation as Request | undefined | null;
          const record = rotation === undefined || rotation === null ? undefined : parseRotation(rotation, topics);
          const updated = rest.length > 0 ? ((await handlers.UpdateSecret({ ...request, updateMask: { paths: rest } })) as SecretMessage) : current;
          await save(name, record, true);
          return withRotation({ ...updated, etag: secretEtag(await store.getSecret(name.secret)) }, name.secret);
        },
        async GetSecret(request) {
          await loaded;
          const message = (await handlers.GetSecret(request)) as SecretMessage;
          return withRotation(message, parseSecretName(request.name).secret);
        },
        async ListSecrets(request) {
          await loaded;
          const page = (await handlers.ListSecrets(request)) as { secrets: SecretMessage[] };
          return { ...page, secrets: page.secrets.map((m) => withRotation(m, parseSecretName(m.name).secret)) };
        },
        async DeleteSecret(request) {
          const answer = await handlers.DeleteSecret(request);
          schedule(parseSecretName(request.name).secret, '', undefined);
          return answer;
        },
      };
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
