/** The part of an IAM policy the evaluator reads. */
export interface EvaluablePolicy {
  Statement: { Effect: string; Action?: string | string[]; Resource?: string | string[] }[];
}

/** IAM glob → RegExp: `*` any run of characters (`/` included), `?` any one character. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/**
 * How IAM decides `execute-api:Invoke` on a resource: an explicit Deny wins, then an Allow,
 * else the implicit deny (no statement matched). API Gateway words its 403 differently for
 * the two denies ("… with an explicit deny" or not).
 */
export function decide(policy: EvaluablePolicy, resourceArn: string): 'Allow' | 'ExplicitDeny' | 'ImplicitDeny' {
  let allowed = false;
  for (const statement of policy.Statement) {
    const actions = ([] as string[]).concat(statement.Action ?? []);
    if (!actions.some((a) => globToRegExp(a).test('execute-api:Invoke'))) continue;
    const matches = ([] as string[]).concat(statement.Resource ?? []).some((r) => globToRegExp(r).test(resourceArn));
    if (!matches) continue;
    if (statement.Effect === 'Deny') return 'ExplicitDeny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

/**
 * Evaluate an authorizer policy the way IAM does for `execute-api:Invoke`: an explicit
 * Deny wins, then an Allow, else the implicit deny. Used by the sandbox gateway and by the
 * tests; written independently of the policy compiler it checks.
 */
export function evaluate(policy: EvaluablePolicy, resourceArn: string): 'Allow' | 'Deny' {
  return decide(policy, resourceArn) === 'Allow' ? 'Allow' : 'Deny';
}
