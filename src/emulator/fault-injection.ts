/**
 * Fault injection for tests and the bench: per-method latency, an error status for
 * the next N calls (or until cleared), a hang that never answers (released at
 * close()), and a wrong or missing payload checksum.
 */
import type { GrpcCodeName } from '../gcp/grpc-codes.ts';
import type { ServiceMethod } from './secret-manager-service.ts';

/** The statuses a rule may answer with (any but OK). */
export type FaultCode = Exclude<GrpcCodeName, 'OK'>;

/** A method name, or `'*'` for every method without a rule of its own. */
export type FaultTarget = ServiceMethod | '*';

export interface FaultRule {
  /** Delay before the call is answered (or fails). Default 0. */
  latencyMs?: number;
  /** Fail the call with this gRPC status. Default: no failure. */
  code?: FaultCode;
  /** Never answer. The call stays open until the client gives up or the emulator closes. Default false. */
  hang?: boolean;
  /** AccessSecretVersion only: send a wrong `data_crc32c` (`'bad'`) or none (`'omit'`). Default: the right one. */
  checksum?: 'bad' | 'omit';
  /** Apply to the next `times` calls only, then drop the rule. Default: until cleared. */
  times?: number;
}

interface ActiveRule extends FaultRule {
  remaining: number;
}

/** What one call must suffer; `undefined` fields mean "behave". */
export type AppliedFault = Omit<FaultRule, 'times'>;

export class FaultInjector {
  readonly #rules = new Map<FaultTarget, ActiveRule>();

  /**
   * Installs `rule` for `target`, replacing any rule it had. Returns a disposer
   * that removes this rule (and nothing installed after it).
   */
  inject(target: FaultTarget, rule: FaultRule): () => void {
    if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) {
      throw new RangeError('times must be a positive integer');
    }
    if (rule.latencyMs !== undefined && !(rule.latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0');
    const active: ActiveRule = { ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
    this.#rules.set(target, active);
    return () => {
      if (this.#rules.get(target) === active) this.#rules.delete(target);
    };
  }

  /** Removes the rule of `target`, or every rule when none is named. */
  clear(target?: FaultTarget): void {
    if (target === undefined) this.#rules.clear();
    else this.#rules.delete(target);
  }

  /** The rules in force, for a status page or a test's failure message. */
  list(): ReadonlyMap<FaultTarget, Readonly<FaultRule>> {
    return new Map(this.#rules);
  }

  /** Picks the rule for one call of `method` and uses one of its `times`. */
  take(method: ServiceMethod): AppliedFault | undefined {
    const target: FaultTarget | undefined = this.#rules.has(method) ? method : this.#rules.has('*') ? '*' : undefined;
    if (target === undefined) return undefined;
    const rule = this.#rules.get(target)!;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.#rules.delete(target);
    const { latencyMs, code, hang, checksum } = rule;
    return { latencyMs, code, hang, checksum };
  }
}
