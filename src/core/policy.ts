import { PolicyError } from '../errors.ts';
import type { Category, RotationKind } from '../types.ts';

/**
 * A policy rule is data: which entries it covers, and which rotation integrations
 * (if any) may take them over. A covered entry must be static unless it is handed
 * to one of `allowRotation`. A team adds its own rules next to the defaults.
 */
export interface PolicyRule {
  /** A stable id, quoted in errors, inventory and the lint rule. */
  readonly id: string;
  /** Why the rule exists, for the error message. */
  readonly description: string;
  /** Entry names the rule covers. */
  readonly name?: RegExp;
  /** Categories the rule covers (an entry is covered if its name OR its category matches). */
  readonly category?: readonly Category[];
  /** Rotation integrations allowed to manage a covered entry. Empty: none, ever. */
  readonly allowRotation: readonly RotationKind[];
}

/** What the policy needs to know of an entry. */
export interface PolicySubject {
  readonly static?: boolean;
  readonly category?: Category;
  readonly rotation?: RotationKind;
}

export const DEFAULT_POLICY: readonly PolicyRule[] = Object.freeze([
  {
    id: 'private-key-static',
    description: 'a private key is never hot-reloaded or rotated by keyshift (a new wallet key is a new wallet)',
    name: /_PRIVATE_KEY$/,
    category: ['private-key'],
    allowRotation: [],
  },
  {
    id: 'signing-key-static',
    description: 'a signing key rotates only through the HMAC keyring, which keeps old keys for an overlap window',
    name: /_SIGNING_KEY$/,
    category: ['signing-key'],
    allowRotation: ['keyring'],
  },
  {
    id: 'db-password-static',
    description: 'a database password rotates only through the pg pool, which drains connections opened with the old one',
    name: /^DATABASE_PASSWORD/,
    allowRotation: ['pg-pool'],
  },
]);

/** The first rule the entry breaks, or undefined. */
export function findViolation(
  name: string,
  entry: PolicySubject,
  rules: readonly PolicyRule[] = DEFAULT_POLICY,
): { rule: PolicyRule; message: string } | undefined {
  for (const rule of rules) {
    const covered =
      (rule.name?.test(name) ?? false) || (entry.category !== undefined && (rule.category?.includes(entry.category) ?? false));
    if (!covered) continue;
    const via = entry.rotation;
    if (via !== undefined && !rule.allowRotation.includes(via)) {
      return { rule, message: `it may not be handed to "${via}": ${rule.description}` };
    }
    if (!entry.static && via === undefined) {
      const how = rule.allowRotation.length ? `; declare it static, or set rotation: '${rule.allowRotation[0]}'` : '; declare it static';
      return { rule, message: `it may not be dynamic: ${rule.description}${how}` };
    }
  }
  return undefined;
}

/** Throws a PolicyError naming the entry and the rule. */
export function assertPolicy(name: string, entry: PolicySubject, rules: readonly PolicyRule[] = DEFAULT_POLICY): void {
  const violation = findViolation(name, entry, rules);
  if (violation) throw new PolicyError(name, violation.rule.id, violation.message);
}
