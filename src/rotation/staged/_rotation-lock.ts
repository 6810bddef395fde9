/**
 * The lock of a staged rotation is the store's own versioning, not a leader election:
 * a runner claims a rotation by writing its record into the metadata of the record
 * secret (`<NAME>__PENDING`) with `updateSecret(..., { ifEtag })`. Two runners that read the same etag race on that
 * write and exactly one wins; the other sees the winner's lease and stands aside.
 * Every stage renews the lease the same way; a failure releases it, so the next
 * attempt (from any process) resumes at once; a crashed runner's lease simply expires.
 */
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { SecretInfo } from '../../local-store/index.ts';
import { type LastRotation, type RotationState, type RotationStore, readState, withState } from './_rotation-state.ts';

/** The record changed hands while we held it (our lease expired and another runner took over). */
export class LeaseLost extends Error {
  constructor(readonly secret: string) {
    super(`the rotation of ${secret} was taken over by another runner`);
    this.name = 'LeaseLost';
  }
}

export const isConflict = (error: unknown): boolean => error instanceof KeyshiftError && error.code === ErrorCodes.CONFLICT;

/** How many times a write that lost an etag race to an unrelated change is tried again. */
const MAX_ETAG_RETRIES = 5;

export class RotationLease {
  readonly #store: RotationStore;
  /** The record secret (`<NAME>__PENDING`) the lease is written on. */
  readonly recordName: string;
  readonly holder: string;
  readonly #leaseMs: number;
  readonly #now: () => number;
  #info: SecretInfo;
  #state: RotationState;

  private constructor(store: RotationStore, info: SecretInfo, state: RotationState, leaseMs: number, now: () => number) {
    this.#store = store;
    this.recordName = info.name;
    this.holder = state.holder;
    this.#leaseMs = leaseMs;
    this.#now = now;
    this.#info = info;
    this.#state = state;
  }

  /**
   * Writes `state` (with a fresh lease) if the secret still has the etag of `info`.
   * Resolves the lease, or undefined when another writer got there first.
   */
  static async claim(
    store: RotationStore,
    info: SecretInfo,
    state: RotationState,
    leaseMs: number,
    now: () => number,
  ): Promise<RotationLease | undefined> {
    const claimed = { ...state, leaseUntil: now() + leaseMs };
    try {
      const next = await store.updateSecret(info.name, { extra: withState(info, claimed) }, { ifEtag: info.etag });
      return new RotationLease(store, next, claimed, leaseMs, now);
    } catch (error) {
      if (isConflict(error)) return undefined;
      throw error;
    }
  }

  get state(): RotationState {
    return this.#state;
  }

  get info(): SecretInfo {
    return this.#info;
  }

  /** Records progress and renews the lease. */
  save(patch: Partial<RotationState>): Promise<void> {
    return this.#write({ ...this.#state, ...patch, leaseUntil: this.#now() + this.#leaseMs });
  }

  /** Records a failure and releases the lease, so the next attempt resumes at once. */
  release(patch: Partial<RotationState>): Promise<void> {
    return this.#write({ ...this.#state, ...patch, leaseUntil: 0 });
  }

  /** Removes the record: the rotation is over (`last` says how it ended, when it finished). */
  clear(last?: LastRotation): Promise<void> {
    return this.#write(undefined, last);
  }

  /**
   * A conditional write on the last etag seen. Any write to the record secret moves its
   * etag (our own put of a pending value, for one): on a conflict
   * the record is read again, and the write is retried only while it is still ours.
   */
  async #write(state: RotationState | undefined, last?: LastRotation): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.#info = await this.#store.updateSecret(this.recordName, { extra: withState(this.#info, state, last) }, { ifEtag: this.#info.etag });
        if (state !== undefined) this.#state = state;
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= MAX_ETAG_RETRIES) throw error;
      }
      const fresh = await this.#store.getSecret(this.recordName);
      const record = readState(fresh);
      if (record?.id !== this.#state.id || record.holder !== this.holder) throw new LeaseLost(this.recordName);
      this.#info = fresh;
    }
  }
}
