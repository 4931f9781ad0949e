/**
 * An IAM policy evaluator for the tests that stand in for an AWS account: explicit Deny
 * wins, then an Allow, else the implicit deny, over `Action`/`NotAction`,
 * `Resource`/`NotResource`, `Principal` (for resource policies) and the condition operators
 * the templates use. An operator it does not know throws, so a policy it cannot judge fails
 * the test instead of passing it. Written from the IAM policy evaluation logic documents,
 * independently of the constructs it checks.
 */

/** A policy statement as a template holds it, after intrinsics are resolved. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: '*' | Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** One request: who, what, on which resource, with which context keys. */
export interface IamRequest {
  action: string;
  resource: string;
  /** Context keys, e.g. `aws:SecureTransport: 'true'`, `aws:SourceArn`. */
  context?: Record<string, string>;
  /** The caller, for resource policies: `{ Service: 'cloudwatch.amazonaws.com' }` or `{ AWS: roleArn }`. */
  principal?: { Service?: string; AWS?: string };
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM wildcard match: `*` any run of characters, `?` one character; `caseless` for actions. */
export function globMatch(pattern: string, value: string, caseless = false): boolean {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, caseless ? 'si' : 's').test(value);
}

const OPERATORS = new Set([
  'StringEquals',
  'ArnEquals',
  'StringNotEquals',
  'ArnNotEquals',
  'StringEqualsIgnoreCase',
  'StringLike',
  'ArnLike',
  'StringNotLike',
  'ArnNotLike',
  'Bool',
]);

function conditionHolds(operator: string, key: string, expected: string | string[] | boolean, context: Record<string, string>): boolean {
  const ifExists = operator.endsWith('IfExists');
  const op = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
  if (!OPERATORS.has(op)) throw new Error(`the test IAM evaluator does not know condition operator ${operator}`);
  // Condition keys are case-insensitive (aws:SourceArn and AWS:SourceArn are one key).
  const actual = context[key.toLowerCase()];
  const values = (Array.isArray(expected) ? expected : [expected]).map(String);
  if (actual === undefined) {
    if (ifExists) return true;
    // A missing key fails every positive operator; negated ones hold (IAM documents both).
    return op.startsWith('StringNot') || op.startsWith('ArnNot');
  }
  switch (op) {
    case 'StringEquals':
    case 'ArnEquals':
      return values.includes(actual);
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return !values.includes(actual);
    case 'StringEqualsIgnoreCase':
      return values.some((v) => v.toLowerCase() === actual.toLowerCase());
    case 'StringLike':
    case 'ArnLike':
      return values.some((v) => globMatch(v, actual));
    case 'StringNotLike':
    case 'ArnNotLike':
      return !values.some((v) => globMatch(v, actual));
    case 'Bool':
      return values.includes(actual.toLowerCase());
    default:
      throw new Error(`the test IAM evaluator does not know condition operator ${operator}`);
  }
}

function principalMatches(statement: PolicyStatement, principal: IamRequest['principal']): boolean {
  if (statement.Principal === undefined) return true; // identity policy
  if (statement.Principal === '*') return true;
  if (principal === undefined) return false;
  for (const [kind, values] of Object.entries(statement.Principal)) {
    const wanted = principal[kind as 'Service' | 'AWS'];
    if (wanted !== undefined && list(values).some((v) => v === '*' || v === wanted)) return true;
  }
  return false;
}

/** Whether one statement applies to a request. */
export function statementApplies(statement: PolicyStatement, request: IamRequest): boolean {
  if (!principalMatches(statement, request.principal)) return false;
  const actionOk =
    statement.Action !== undefined
      ? list(statement.Action).some((a) => globMatch(a, request.action, true))
      : !list(statement.NotAction).some((a) => globMatch(a, request.action, true));
  if (!actionOk) return false;
  const resourceOk =
    statement.Resource !== undefined
      ? list(statement.Resource).some((r) => globMatch(r, request.resource))
      : statement.NotResource !== undefined
        ? !list(statement.NotResource).some((r) => globMatch(r, request.resource))
        : true; // resource policies may omit Resource only when implied
  if (!resourceOk) return false;
  const context: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.context ?? {})) context[key.toLowerCase()] = value;
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) if (!conditionHolds(operator, key, expected, context)) return false;
  }
  return true;
}

/** The outcome of evaluating a request against identity and resource policies of one account. */
export type IamDecision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/**
 * Same-account evaluation: an explicit Deny in any policy wins; otherwise an Allow in the
 * identity policy or in the resource policy (for the principal) allows.
 */
export function evaluateIam(request: IamRequest, identity: PolicyStatement[], resource: PolicyStatement[] = []): IamDecision {
  const all = [...identity, ...resource];
  if (all.some((s) => s.Effect === 'Deny' && statementApplies(s, request))) return 'ExplicitDeny';
  if (all.some((s) => s.Effect === 'Allow' && statementApplies(s, request))) return 'Allow';
  return 'ImplicitDeny';
}
