import { t } from '../core/codecs/index.ts';
import type { Codec } from '../core/codecs/codec.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

/** The type names a declaration file may use: the codecs of `t`. */
export const AGENT_TYPES = ['string', 'int', 'float', 'decimal', 'bool', 'url', 'duration', 'json', 'oneOf'] as const;
export type AgentTypeName = (typeof AGENT_TYPES)[number];

/** A type in a declaration file: `"int"`, or `{ "kind": "int", "min": 1 }` with the codec's options. */
export type AgentTypeSpec = AgentTypeName | ({ kind: AgentTypeName } & Record<string, unknown>);

function invalid(entry: string, message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `entry ${entry}: ${message}`, { entry });
}

function num(entry: string, options: Record<string, unknown>, field: string): number | undefined {
  const value = options[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(entry, `type option ${field} must be a number`);
  return value;
}

function codecOf(entry: string, kind: AgentTypeName, o: Record<string, unknown>): Codec<unknown> {
  const range = { ...(num(entry, o, 'min') === undefined ? {} : { min: num(entry, o, 'min') }), ...(num(entry, o, 'max') === undefined ? {} : { max: num(entry, o, 'max') }) };
  switch (kind) {
    case 'string': {
      const pattern = o.pattern;
      if (pattern !== undefined && typeof pattern !== 'string') throw invalid(entry, 'type option pattern must be a string');
      let regex: RegExp | undefined;
      try {
        regex = pattern === undefined ? undefined : new RegExp(pattern, 'u');
      } catch {
        throw invalid(entry, 'type option pattern is not a valid regular expression');
      }
      const minLength = num(entry, o, 'minLength');
      const maxLength = num(entry, o, 'maxLength');
      return t.string({ ...(regex ? { pattern: regex } : {}), ...(minLength === undefined ? {} : { minLength }), ...(maxLength === undefined ? {} : { maxLength }), ...(o.header === true ? { header: true } : {}) });
    }
    case 'int':
      return t.int(range);
    case 'float':
      return t.float(range);
    case 'decimal': {
      const maxScale = num(entry, o, 'maxScale');
      return t.decimal({ ...range, ...(maxScale === undefined ? {} : { maxScale }) });
    }
    case 'bool':
      return t.bool();
    case 'url': {
      const protocols = o.protocols;
      if (protocols !== undefined && !(Array.isArray(protocols) && protocols.every((p) => typeof p === 'string'))) {
        throw invalid(entry, 'type option protocols must be a list of strings such as ["https:"]');
      }
      return t.url({ ...(protocols ? { protocols: protocols as string[] } : {}), ...(o.allowCredentials === true ? { allowCredentials: true } : {}) });
    }
    case 'duration': {
      const unit = o.unit;
      if (unit !== undefined && typeof unit !== 'string') throw invalid(entry, 'type option unit must be a string');
      const minMs = num(entry, o, 'minMs');
      const maxMs = num(entry, o, 'maxMs');
      return t.duration({ ...(unit ? { unit: unit as never } : {}), ...(minMs === undefined ? {} : { minMs }), ...(maxMs === undefined ? {} : { maxMs }) });
    }
    case 'json':
      return t.json();
    case 'oneOf': {
      const values = o.values;
      if (!(Array.isArray(values) && values.length > 0 && values.every((v) => typeof v === 'string'))) {
        throw invalid(entry, 'type oneOf needs "values": a non-empty list of strings');
      }
      return t.oneOf(values as [string, ...string[]]);
    }
  }
}

/**
 * The codec of a declaration file's type, as a text codec: it decodes with the real
 * codec (so a version that is not an int is rejected before any swap, and the previous
 * value stays) and keeps the normalized text, which is what files, the read API and
 * environment variables hand over.
 */
export function textCodec(entry: string, spec: unknown): Codec<string> {
  const kind = typeof spec === 'string' ? spec : typeof spec === 'object' && spec !== null ? (spec as { kind?: unknown }).kind : undefined;
  if (typeof kind !== 'string' || !(AGENT_TYPES as readonly string[]).includes(kind)) {
    const shown = typeof kind === 'string' && /^[A-Za-z0-9_-]{1,40}$/.test(kind) ? `"${kind}"` : 'given';
    throw invalid(entry, `unknown type ${shown} (one of ${AGENT_TYPES.join(', ')})`);
  }
  const inner = codecOf(entry, kind as AgentTypeName, typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>) : {});
  return {
    kind: inner.kind,
    decode(text) {
      inner.decode(text);
      return text;
    },
  };
}
