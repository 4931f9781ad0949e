import { readFileSync } from 'node:fs';
import { type Enforcement, Unrouted } from '../core/config';
import { type OpenApiRoute, parseOpenApiText, readOpenApiRoutes } from '../core/openapi';
import { compilePolicy, renderPolicy } from '../core/policy';
import { parseRouteTemplate } from '../core/routes';
import { satisfiesAnyOf } from '../core/scopes';
import { commandArgs } from './args';

export const ROUTES_HELP = `Usage: scopegate routes --openapi FILE [--scopes "a b"] [--json]

Prints the route table an OpenAPI 3 document's security requirements yield: each
operation's method, path and scopes (alternatives when it lists several requirements),
and which are public (security: []). What scopegate cannot enforce (API keys, cookie or
HTTP authentication, schemes required together, optional authentication, operations
without a security requirement, x-amazon-apigateway-auth beside an OAuth requirement) is
an error naming the operation.

Options:
  --openapi FILE   the OpenAPI 3.0 or 3.1 document (YAML or JSON)
  --scopes "a b"   also decide every route for a token holding exactly these scopes (the
                   decision enforcement makes; report-only routes are marked), and size the
                   policy the authorizer would return for it
  --json           machine-readable output
  -h, --help       this text

Exit status: 0 on success, 1 when the document cannot be enforced as written, 2 on a usage error.`;

/** The ARN prefix the policy is rendered under for sizing (a real API id and stage are as long or shorter). */
export const SIZING_ARN_PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/production/';

/** A route of the output: the document's, with the decision for `--scopes`. */
interface RouteLine {
  method: string;
  path: string;
  scopes?: string[];
  anyOf?: string[][];
  public: boolean;
  enforcement?: Enforcement;
  decision?: 'allow' | 'deny';
}

/** The authorizer's rule (one home: `satisfiesAnyOf`); a public route asks for nothing. */
function allowed(route: OpenApiRoute, granted: ReadonlySet<string>): boolean {
  return route.public || satisfiesAnyOf(route.anyOf ?? [route.scopes ?? []], granted);
}

function requirementText(route: RouteLine): string {
  const mode = route.enforcement === 'report-only' ? '  (report-only)' : '';
  if (route.public) return `(public)${mode}`;
  if (route.anyOf) return route.anyOf.map((set) => set.join(' ') || '(any valid token)').join('  |  ') + mode;
  return (route.scopes?.join(' ') || '(any valid token)') + mode;
}

/** `scopegate routes`: returns the exit status. */
export async function routesCommand(argv: string[], out: (text: string) => void = console.log): Promise<number> {
  const values = commandArgs(
    argv,
    {
      openapi: { type: 'string' },
      scopes: { type: 'string' },
      json: { type: 'boolean' },
    },
    ROUTES_HELP,
    out,
  );
  if (typeof values === 'number') return values;
  if (typeof values.openapi !== 'string' || values.openapi.length === 0) {
    out(`--openapi FILE is required\n\n${ROUTES_HELP}`);
    return 2;
  }
  let routes: OpenApiRoute[];
  try {
    routes = readOpenApiRoutes(parseOpenApiText(readFileSync(values.openapi, 'utf8'), values.openapi));
  } catch (error) {
    out(`scopegate routes: ${(error as Error).message}`);
    return 1;
  }

  const lines: RouteLine[] = routes.map((r) => ({
    method: r.method,
    path: r.path,
    ...(r.anyOf ? { anyOf: r.anyOf } : { scopes: r.scopes ?? [] }),
    public: r.public,
    ...(r.enforcement ? { enforcement: r.enforcement } : {}),
  }));
  let policyBytes: number | undefined;
  let overDenied: string[] = [];
  if (typeof values.scopes === 'string') {
    const granted = new Set(values.scopes.split(/\s+/).filter((s) => s.length > 0));
    const verdicts = routes.map((r) => allowed(r, granted));
    lines.forEach((line, i) => {
      line.decision = verdicts[i] ? 'allow' : 'deny';
    });
    // A document imported as the API (SpecRestApi) makes API Gateway's resources the route table.
    const compiled = compilePolicy(
      routes.map((r) => ({ method: r.method, template: parseRouteTemplate(r.path) })),
      (i) => verdicts[i] === true,
      { unrouted: Unrouted.UNREACHABLE },
    );
    policyBytes = Buffer.byteLength(JSON.stringify(renderPolicy(compiled, SIZING_ARN_PREFIX)), 'utf8');
    overDenied = compiled.overDenied.map((i) => `${routes[i]?.method} ${routes[i]?.path}`);
  }

  if (values.json) {
    out(
      JSON.stringify(
        { routes: lines, ...(policyBytes !== undefined ? { policyBytes, exact: overDenied.length === 0, overDenied } : {}) },
        null,
        2,
      ),
    );
    return 0;
  }
  const methodWidth = Math.max(6, ...lines.map((l) => l.method.length));
  const pathWidth = Math.max(4, ...lines.map((l) => l.path.length));
  const text = [
    `${'METHOD'.padEnd(methodWidth)}  ${'PATH'.padEnd(pathWidth)}  ${policyBytes !== undefined ? 'DECISION  ' : ''}SCOPES`,
    ...lines.map(
      (l) =>
        `${l.method.padEnd(methodWidth)}  ${l.path.padEnd(pathWidth)}  ${l.decision ? l.decision.padEnd(10) : ''}${requirementText(l)}`,
    ),
    '',
    `${lines.length} routes, ${lines.filter((l) => l.public).length} public. Several requirements (|) are alternatives; the scopes of one requirement are all required.`,
  ];
  if (policyBytes !== undefined) {
    const allowedCount = lines.filter((l) => l.decision === 'allow').length;
    text.push(
      `A token with "${values.scopes}" is allowed ${allowedCount} of ${lines.length} routes; the policy the authorizer returns for it is ${policyBytes} bytes.`,
    );
    if (lines.some((l) => l.decision === 'deny' && l.enforcement === 'report-only'))
      text.push('A report-only route that would deny lets the request through (policy for that request only) and logs the decision.');
    if (overDenied.length > 0)
      text.push(
        `No exact cached policy exists for this token: it would over-deny ${overDenied.join(', ')}; the authorizer answers it with a policy for each request alone (docs/proof.md).`,
      );
  }
  out(text.join('\n'));
  return 0;
}
