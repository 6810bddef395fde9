/**
 * ESLint rule `keyshift/no-dynamic-static-secret`: the policy of src/core/policy.ts,
 * applied to source code, so an editor underlines what `defineSecrets()` would refuse
 * at import. It flags:
 * - a dynamic read of a name the policy keeps static: `ks.get('HOST_WALLET_PRIVATE_KEY')`,
 *   by its name, or by the category it is declared with in the same file;
 * - a forced refresh of one: `ks.refresh('HOST_WALLET_PRIVATE_KEY')` or `refresh([...])`;
 * - a declaration that breaks a rule: `{ HOST_WALLET_PRIVATE_KEY: { type: t.string() } }`
 *   without `static: true`, or handed to a rotation the rule does not allow.
 * The verdict comes from `findViolation()` itself, so the rule and the runtime agree.
 */
import type { Rule } from 'eslint';
import { findViolation, type PolicyRule, type PolicySubject } from '../core/policy.ts';
import type { Category, RotationKind } from '../types.ts';

/** The few node shapes the rule reads; @typescript-eslint/parser adds TS wrapper nodes to ESTree. */
interface AnyNode {
  type: string;
  parent?: AnyNode;
  [key: string]: unknown;
}

const WRAPPERS = new Set(['TSAsExpression', 'TSSatisfiesExpression', 'TSTypeAssertion', 'TSNonNullExpression', 'ChainExpression']);
const READS = new Set(['get']);
const REFRESHES = new Set(['refresh']);

/** A string known at lint time: 'X', "X" or `X`; undefined for anything computed. */
function staticString(node: AnyNode | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && (node.expressions as unknown[]).length === 0) {
    const quasi = (node.quasis as { value: { cooked: string | null } }[])[0];
    return quasi?.value.cooked ?? undefined;
  }
  return undefined;
}

function unwrap(node: AnyNode | undefined): AnyNode | undefined {
  let current = node;
  while (current && WRAPPERS.has(current.type)) current = current.expression as AnyNode;
  return current;
}

/** The name an object literal is declared under: `NAME: {...}` or `const NAME = {...}`. */
function declaredName(object: AnyNode): string | undefined {
  let child = object;
  let parent = object.parent;
  while (parent && WRAPPERS.has(parent.type)) {
    child = parent;
    parent = parent.parent;
  }
  if (parent?.type === 'Property' && parent.value === child && !parent.computed) {
    const key = parent.key as AnyNode;
    return key.type === 'Identifier' ? String(key.name) : staticString(key);
  }
  if (parent?.type === 'VariableDeclarator' && parent.init === child) {
    const id = parent.id as AnyNode;
    return id.type === 'Identifier' ? String(id.name) : undefined;
  }
  return undefined;
}

/**
 * What an entry declaration says of itself, or undefined when it cannot be known here
 * (no `type` codec, or `static`/`category`/`rotation` computed or hidden behind a spread).
 */
function subjectOf(object: AnyNode): PolicySubject | undefined {
  const props = new Map<string, AnyNode>();
  let spread = false;
  for (const prop of object.properties as AnyNode[]) {
    if (prop.type !== 'Property' || prop.computed) {
      spread = true;
      continue;
    }
    const key = prop.key as AnyNode;
    const name = key.type === 'Identifier' ? String(key.name) : staticString(key);
    if (name !== undefined) props.set(name, unwrap(prop.value as AnyNode) as AnyNode);
  }
  const type = props.get('type');
  const hasCodec = type !== undefined && type.type !== 'Literal' && type.type !== 'TemplateLiteral' && type.type !== 'ObjectExpression';
  if (!hasCodec && !spread) return undefined;
  const flag = props.get('static');
  if (flag === undefined && spread) return undefined;
  if (flag !== undefined && !(flag.type === 'Literal' && typeof flag.value === 'boolean')) return undefined;
  const subject: { static?: boolean; category?: Category; rotation?: RotationKind } = { static: flag?.value === true };
  for (const field of ['category', 'rotation'] as const) {
    const node = props.get(field);
    if (node === undefined) continue;
    const value = staticString(node);
    if (value === undefined) return undefined;
    if (field === 'category') subject.category = value as Category;
    else subject.rotation = value as RotationKind;
  }
  return subject;
}

/** The rule, checking against `policy` (DEFAULT_POLICY in the shipped plugin). */
export function createNoDynamicStaticSecret(policy: readonly PolicyRule[]): Rule.RuleModule {
  return {
    meta: {
      type: 'problem',
      docs: {
        description: 'Forbid hot-reloading a secret the keyshift policy keeps static (private keys, signing keys, database passwords)',
        recommended: true,
      },
      schema: [],
      messages: {
        dynamicRead: '{{name}} is kept static by policy rule "{{rule}}": read it as .static.{{name}}, not with {{method}}() ({{reason}})',
        refresh: '{{name}} is kept static by policy rule "{{rule}}": it is never refreshed ({{reason}})',
        declaration: '{{name}} breaks policy rule "{{rule}}": {{reason}}',
      },
    },
    create(context) {
      /** Names declared in this file under a category a rule covers (`MY_WALLET: { category: 'private-key' }`). */
      const declared = new Map<string, Category>();
      const calls: { name: string; node: AnyNode; method: string; read: boolean }[] = [];
      const collectCall = (node: AnyNode): void => {
        const callee = unwrap(node.callee as AnyNode);
        if (callee?.type !== 'MemberExpression' || callee.computed) return;
        const method = String((callee.property as AnyNode).name);
        const read = READS.has(method);
        if (!read && !REFRESHES.has(method)) return;
        const first = unwrap((node.arguments as AnyNode[])[0]);
        const args = !read && first?.type === 'ArrayExpression' ? (first.elements as (AnyNode | null)[]) : [first];
        for (const arg of args) {
          const name = staticString(unwrap(arg ?? undefined));
          if (name !== undefined) calls.push({ name, node: arg ?? node, method, read });
        }
      };
      const checkDeclaration = (node: AnyNode): void => {
        const name = declaredName(node);
        if (name === undefined) return;
        const subject = subjectOf(node);
        if (!subject) return;
        if (subject.category !== undefined) declared.set(name, subject.category);
        const violation = findViolation(name, subject, policy);
        if (!violation) return;
        context.report({
          node: node as unknown as Rule.Node,
          messageId: 'declaration',
          data: { name, rule: violation.rule.id, reason: violation.message },
        });
      };
      const checkCalls = (): void => {
        for (const { name, node, method, read } of calls) {
          const category = declared.get(name);
          const violation = findViolation(name, category === undefined ? { static: false } : { static: false, category }, policy);
          if (!violation) continue;
          context.report({
            node: node as unknown as Rule.Node,
            messageId: read ? 'dynamicRead' : 'refresh',
            data: { name, rule: violation.rule.id, method, reason: violation.rule.description },
          });
        }
      };
      return {
        CallExpression: (node) => collectCall(node as unknown as AnyNode),
        ObjectExpression: (node) => checkDeclaration(node as unknown as AnyNode),
        'Program:exit': checkCalls,
      };
    },
  };
}
