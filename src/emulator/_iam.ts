/**
 * GetIamPolicy, SetIamPolicy and TestIamPermissions on secrets, with a minimal
 * in-memory policy per secret (lost when the emulator stops, dropped with the secret),
 * for the tools that read or set a policy. The emulator has no caller identity, so
 * TestIamPermissions grants every Secret Manager permission asked about and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { StatusError, invalidArgument } from './_status.ts';

interface Binding {
  role: string;
  members: string[];
  condition?: unknown;
}

interface Policy {
  version: number;
  bindings: Binding[];
  etag: Buffer;
}

/** Member forms IAM accepts (prefix, or the whole string). */
const MEMBER = /^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|deleted:user|deleted:serviceAccount|deleted:group):.+|principal(Set)?:\/\/.+)$/;
const PERMISSION = /^secretmanager\.[a-zA-Z]+\.[a-zA-Z]+$/;

export interface IamHandlers {
  GetIamPolicy(request: Record<string, unknown>): Promise<unknown>;
  SetIamPolicy(request: Record<string, unknown>): Promise<unknown>;
  TestIamPermissions(request: Record<string, unknown>): Promise<unknown>;
  /** Drops the policy of a deleted secret. */
  forget(resource: string): void;
}

/** `exists(resource)` checks the secret (throws NOT_FOUND / PERMISSION_DENIED as GetSecret would). */
export function createIamHandlers(exists: (resource: unknown) => Promise<string>): IamHandlers {
  const policies = new Map<string, Policy>();
  const empty = (): Policy => ({ version: 1, bindings: [], etag: Buffer.from('ACAB') });
  const answer = (p: Policy): Record<string, unknown> => ({
    version: p.version,
    bindings: p.bindings.map((b) => ({ ...b, members: [...b.members] })),
    etag: Buffer.from(p.etag),
  });

  return {
    async GetIamPolicy(request) {
      const resource = await exists(request.resource);
      return answer(policies.get(resource) ?? empty());
    },

    async SetIamPolicy(request) {
      const resource = await exists(request.resource);
      const given = request.policy as { version?: number; bindings?: Binding[]; etag?: Uint8Array } | undefined;
      if (given === undefined || given === null) throw invalidArgument('policy must be set.');
      const current = policies.get(resource) ?? empty();
      if (given.etag !== undefined && given.etag.length > 0 && !Buffer.from(given.etag).equals(current.etag)) {
        throw new StatusError('ABORTED', `There were concurrent policy changes on [${resource}]; read the policy again and retry.`);
      }
      const bindings: Binding[] = [];
      for (const binding of given.bindings ?? []) {
        if (typeof binding.role !== 'string' || !binding.role.startsWith('roles/')) {
          throw invalidArgument(`Invalid role [${String(binding.role).slice(0, 100)}]: roles are named roles/...`);
        }
        const members = binding.members ?? [];
        for (const member of members) {
          if (typeof member !== 'string' || !MEMBER.test(member)) throw invalidArgument(`Invalid member [${String(member).slice(0, 100)}].`);
        }
        bindings.push({ role: binding.role, members: [...members], ...(binding.condition ? { condition: binding.condition } : {}) });
      }
      const policy: Policy = { version: Number(given.version ?? 1) || 1, bindings, etag: randomBytes(8) };
      policies.set(resource, policy);
      return answer(policy);
    },

    async TestIamPermissions(request) {
      await exists(request.resource);
      const asked = Array.isArray(request.permissions) ? request.permissions : [];
      return { permissions: asked.filter((p): p is string => typeof p === 'string' && PERMISSION.test(p)) };
    },

    forget(resource) {
      policies.delete(resource);
    },
  };
}
