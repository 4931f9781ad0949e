import { type AuthorizerConfig, Unrouted } from '../core/config';
import { isJsonObject } from '../core/json';
import {
  noExactCachedPolicy,
  type PolicyCompiler,
  type ProofCase,
  type ProofReport,
  proveRouteTable,
  type UnroutedMode,
} from '../proof/prove';
import { commandArgs } from './args';
import { readRouteConfig, readRouteSource } from './route-source';

export const VERIFY_HELP = `Usage: scopegate verify (--config FILE | --openapi FILE) [--json]

Proves, over every request path of the API and stage, that the policy the authorizer
compiles for each set of routes a token can satisfy
  1. allows every request of those routes (complete),
  2. allows no request that a route the token does not satisfy governs (sound),
  3. allows no request that no route governs (unrouted), unless the configuration says
     such requests cannot reach the authorizer ("unrouted": "unreachable").
A request denied to a token whose route allows it is a failure, unless that route accepts
it ("acceptOverDeny") or the authorizer is uncached ("policyCacheTtlSeconds": 0). A failure
prints a shortest counterexample request. API Gateway is read from its documentation, not
from the authorizer's code (docs/proof.md).

Options:
  --config FILE    the authorizer configuration; a file holding only a route list (or an
                   object with "routes" and no "issuers") is read as the route table, with
                   the policy cached
  --openapi FILE   the route table of an OpenAPI 3 document's security requirements (as
                   "scopegate routes" reads it). Imported as a SpecRestApi, the document is
                   the API's whole resource set, so it is proven with "unrouted": "unreachable"
  --json           machine-readable output
  -h, --help       this text

Exit status: 0 proven for every route set a token can satisfy; 1 a property fails; 2 a usage
or configuration error; 3 no failure found, but not every route set was checked (the route
sets exceed the proof's limits: the output says which were covered).`;

// Read by the other commands and the proof's tests beside verify.
export { readRouteConfig };

/** How the proof was set up, for the text and the JSON. */
export interface VerifySetting {
  routes: number;
  unrouted: UnroutedMode;
  uncached: boolean;
  /** Why `unrouted` is what it is. */
  unroutedFrom: 'configuration' | 'openapi';
}

function tokenText(c: ProofCase): string {
  const scopes = c.token.scopes.length > 0 ? c.token.scopes.join(' ') : '(no scope)';
  return c.token.authAgeSeconds === undefined ? scopes : `${scopes}, authenticated ${c.token.authAgeSeconds} s ago`;
}

/** What to do about a route set with no exact cached policy: the ways out, each in a line. */
function remedies(c: ProofCase, setting: VerifySetting): string[] {
  const routes = [...new Set(c.counterexamples.flatMap((x) => (x.route ? [x.route] : [])))];
  const out = [`No exact cached policy exists for this token (IAM globs cannot express it). Any one of these fixes it:`];
  if (setting.unrouted === 'deny') {
    out.push(
      `  - "unrouted": "unreachable", if API Gateway's resources are exactly the route table (then a request no route matches never reaches the authorizer);`,
    );
  }
  out.push(
    `  - "acceptOverDeny": true on ${routes.join(' and ')}, to let the cached policy deny ${c.counterexamples[0]?.request} and the like, and the authorizer deny them too (reason over_deny);`,
    `  - "policyCacheTtlSeconds": 0, so that the authorizer answers each request with a policy for it alone.`,
  );
  return out;
}

/** How the authorizer answers a proven route set whose policy over-denies (uncached, or accepted). */
function answerNote(c: ProofCase): string | undefined {
  const example = c.overDenied[0];
  if (c.answer === 'single-request') {
    return `No exact cached policy: the uncached authorizer answers each request with a policy for it alone${example ? ` (the whole-API policy would deny ${example.request})` : ''}.`;
  }
  if (c.answer === 'accepted-over-deny') {
    return `Over-deny accepted (acceptOverDeny): the cached policy${example ? ` denies ${example.request} (${example.route})` : ' over-denies'}, and so does the authorizer (reason over_deny).`;
  }
  return undefined;
}

/** Proven route sets listed one by one at most this many; beyond, counted (the JSON lists them all). */
const LISTED = 32;

/** The report as text: failures first, a sentence each, with what to do; then how the rest is answered. */
export function formatReport(report: ProofReport, setting: VerifySetting): string {
  const lines: string[] = [];
  const failed = report.cases.filter((c) => !c.proven);
  const noted = report.cases.filter((c) => c.proven && c.answer !== 'cached');
  const plain = report.cases.filter((c) => c.proven && c.answer === 'cached');
  const unrouted =
    setting.unrouted === 'deny'
      ? 'unrouted requests reach the authorizer and must be denied'
      : `unrouted requests never reach the authorizer (${setting.unroutedFrom === 'openapi' ? 'an OpenAPI document is the resource set of its SpecRestApi' : '"unrouted": "unreachable"'})`;
  lines.push(`${setting.routes} routes; ${unrouted}; ${setting.uncached ? 'uncached (policyCacheTtlSeconds 0)' : 'policies cached'}.`);
  lines.push(`Coverage: ${report.coverage}.`);
  for (const c of failed) {
    lines.push(
      '',
      `FAILED  token: ${tokenText(c)}`,
      `        satisfies: ${c.satisfied.length > 0 ? c.satisfied.join(', ') : '(no route)'}`,
    );
    for (const x of c.counterexamples) lines.push(`        ${x.property}: ${x.detail}.`);
    if (noExactCachedPolicy({ ...report, cases: [c] })) for (const r of remedies(c, setting)) lines.push(`        ${r}`);
  }
  for (const c of [...noted, ...(plain.length <= LISTED ? plain : [])]) {
    lines.push(
      '',
      `proven  token: ${tokenText(c)}`,
      `        satisfies: ${c.satisfied.length > 0 ? c.satisfied.join(', ') : '(no route)'}`,
    );
    const note = answerNote(c);
    if (note) lines.push(`        ${note}`);
  }
  if (plain.length > LISTED)
    lines.push('', `proven  ${plain.length} more route sets, each answered with an exact cached policy (--json lists them).`);
  lines.push('');
  if (report.failed) {
    lines.push(`NOT proven: ${failed.length} of ${report.cases.length} route sets have counterexamples.`);
  } else if (!report.exhaustive) {
    lines.push(
      `No counterexample in the ${report.cases.length} route sets checked, but NOT every route set a token can satisfy was checked (exit 3): see Coverage above.`,
    );
  } else {
    lines.push(
      `Proven: ${report.cases.length} route sets, every one a token can satisfy; ${report.states} product states, ${report.elapsedMs} ms.`,
    );
  }
  return lines.join('\n');
}

/** The contract's JSON shape, with the extra fields docs/proof.md lists. */
export function reportJson(report: ProofReport, setting: VerifySetting): Record<string, unknown> {
  return {
    proven: report.proven,
    exhaustive: report.exhaustive,
    cases: report.cases.map((c) => ({
      satisfied: c.satisfied,
      proven: c.proven,
      counterexamples: c.counterexamples,
      answer: c.answer,
      overDenied: c.overDenied,
      token: c.token,
    })),
    coverage: report.coverage,
    unrouted: setting.unrouted,
    uncached: setting.uncached,
    elapsedMs: report.elapsedMs,
  };
}

/** The exit status of a report: 1 a failure, 3 none found but not exhaustive, 0 proven. */
export function exitStatus(report: ProofReport): 0 | 1 | 3 {
  return report.failed ? 1 : report.exhaustive ? 0 : 3;
}

/** `scopegate verify`: returns the exit status. `compile` replaces the policy compiler under proof (tests inject faults). */
export async function verifyCommand(argv: string[], out: (text: string) => void = console.log, compile?: PolicyCompiler): Promise<number> {
  const values = commandArgs(
    argv,
    {
      config: { type: 'string' },
      openapi: { type: 'string' },
      json: { type: 'boolean' },
    },
    VERIFY_HELP,
    out,
  );
  if (typeof values === 'number') return values;
  const config = typeof values.config === 'string' ? values.config : undefined;
  const openapi = typeof values.openapi === 'string' ? values.openapi : undefined;
  if ((config === undefined) === (openapi === undefined)) {
    out(`give one of --config FILE and --openapi FILE\n\n${VERIFY_HELP}`);
    return 2;
  }
  let parsed: AuthorizerConfig;
  let explicitTtl = false;
  try {
    const source = readRouteSource(config, openapi);
    parsed = source.config;
    explicitTtl = isJsonObject(source.raw) && source.raw.policyCacheTtlSeconds !== undefined;
  } catch (error) {
    out(`scopegate verify: ${openapi ?? config}: ${(error as Error).message}`);
    return 2;
  }
  const setting: VerifySetting = {
    routes: parsed.routes.length,
    // A SpecRestApi imported from the document has exactly its paths as resources.
    unrouted: openapi !== undefined ? Unrouted.UNREACHABLE : parsed.unrouted,
    unroutedFrom: openapi !== undefined ? 'openapi' : 'configuration',
    // Only a configuration that says it is uncached may go without exact cached policies.
    uncached: explicitTtl && parsed.policyCacheTtlSeconds === 0,
  };
  const report = proveRouteTable(parsed.routes, {
    policyCacheTtlSeconds: parsed.policyCacheTtlSeconds,
    unrouted: setting.unrouted,
    uncached: setting.uncached,
    ...(compile ? { compile } : {}),
  });
  out(values.json ? JSON.stringify(reportJson(report, setting), null, 2) : formatReport(report, setting));
  return exitStatus(report);
}
