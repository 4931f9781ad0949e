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
 * Evaluate an authorizer policy the way IAM does for `execute-api:Invoke`: an explicit
 * Deny wins, then an Allow, else the implicit deny. Used by the sandbox gateway and by the
 * tests; written independently of the policy compiler it checks.
 */
export function evaluate(policy: EvaluablePolicy, resourceArn: string): 'Allow' | 'Deny' {
  let allowed = false;
  for (const statement of policy.Statement) {
    const actions = ([] as string[]).concat(statement.Action ?? []);
    if (!actions.some((a) => globToRegExp(a).test('execute-api:Invoke'))) continue;
    const matches = ([] as string[]).concat(statement.Resource ?? []).some((r) => globToRegExp(r).test(resourceArn));
    if (!matches) continue;
    if (statement.Effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'Deny';
}
