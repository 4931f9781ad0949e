import { readFileSync } from 'node:fs';
import { type AuthorizerConfig, parseConfig } from '../functions/authorizer/config';
import { isJsonObject } from '../functions/shared/json';
import { parseOpenApiText, readOpenApiRoutes } from '../functions/shared/openapi';
import { type PolicyCompiler, type ProofCase, type ProofReport, proveRouteTable } from '../proof/prove';
import { commandArgs } from './args';

export const VERIFY_HELP = `Usage: scopegate verify (--config FILE | --openapi FILE) [--json]

Proves, over every request path of the API and stage, that the policy the authorizer
compiles for each set of routes a token can satisfy
  1. allows every request of those routes (complete),
  2. allows no request that a route the token does not satisfy governs (sound),
  3. allows no request that no route governs (unrouted), unless the configuration says
     such requests cannot reach the authorizer ("unrouted": "unreachable").
A failure prints a shortest counterexample request. See docs/proof.md for the model.

Options:
  --config FILE    the authorizer configuration; a file holding only a route list (or an
                   object with "routes" and no "issuers") is read as the route table
  --openapi FILE   the route table of an OpenAPI 3 document's security requirements
                   (as "scopegate routes" reads it; public operations have no scopes)
  --json           machine-readable output
  -h, --help       this text

Exit status: 0 when every property is proven, 1 when one fails, 2 on a usage or configuration error.`;

/** Stands in for the issuers of a file that holds only routes: the proof reads no issuer. */
const PLACEHOLDER_ISSUER = { issuer: 'https://issuer.invalid', jwksUri: 'https://issuer.invalid/jwks.json', audience: 'verify' };

/** Read a configuration, or a bare route table, into a validated configuration (field errors name the field). */
export function readRouteConfig(raw: unknown): AuthorizerConfig {
  if (Array.isArray(raw)) return parseConfig({ issuers: [PLACEHOLDER_ISSUER], routes: raw }).config;
  if (isJsonObject(raw) && !('issuers' in raw)) {
    return parseConfig({ ...raw, issuers: [PLACEHOLDER_ISSUER] }).config;
  }
  return parseConfig(raw).config;
}

/** The route rows of an OpenAPI document, as the construct records them (public operations with no scopes). */
function openApiRouteRows(file: string): Record<string, unknown>[] {
  return readOpenApiRoutes(parseOpenApiText(readFileSync(file, 'utf8'), file)).map((r) =>
    r.anyOf !== undefined && r.anyOf.length > 0
      ? { method: r.method, path: r.path, anyOf: r.anyOf }
      : { method: r.method, path: r.path, scopes: r.scopes ?? [] },
  );
}

function tokenText(c: ProofCase): string {
  const scopes = c.token.scopes.length > 0 ? c.token.scopes.join(' ') : '(no scope)';
  return c.token.authAgeSeconds === undefined ? scopes : `${scopes}, authenticated ${c.token.authAgeSeconds} s ago`;
}

/** The report as text: one block per route set, failures first. */
export function formatReport(report: ProofReport, routeCount: number): string {
  const lines: string[] = [];
  const failed = report.cases.filter((c) => !c.proven);
  lines.push(`${routeCount} routes; ${report.coverage}.`);
  for (const c of [...failed, ...report.cases.filter((x) => x.proven)]) {
    lines.push('');
    lines.push(`${c.proven ? 'proven' : 'FAILED'}  token: ${tokenText(c)}`);
    lines.push(`        satisfies: ${c.satisfied.length > 0 ? c.satisfied.join(', ') : '(no route)'}`);
    for (const x of c.counterexamples) lines.push(`        ${x.property}: ${x.detail}`);
    if (c.answer !== 'cached') {
      const how =
        c.answer === 'single-request'
          ? 'no exact cached policy: the (uncached) authorizer answers each request alone'
          : 'over-deny accepted (acceptOverDeny): the decision follows the cached policy';
      lines.push(`        ${how}${c.overDenied[0] ? `, e.g. ${c.overDenied[0].request} is denied` : ''}`);
    }
  }
  lines.push('');
  lines.push(
    report.proven
      ? `Proven: ${report.cases.length} route sets, ${report.states} product states, ${report.elapsedMs} ms.`
      : `NOT proven: ${failed.length} of ${report.cases.length} route sets have counterexamples.`,
  );
  return lines.join('\n');
}

/** The contract's JSON shape (docs/proof.md lists the extra fields). */
export function reportJson(report: ProofReport): Record<string, unknown> {
  return {
    proven: report.proven,
    cases: report.cases.map((c) => ({
      satisfied: c.satisfied,
      proven: c.proven,
      counterexamples: c.counterexamples,
      answer: c.answer,
      overDenied: c.overDenied,
      token: c.token,
    })),
    coverage: report.coverage,
    exhaustive: report.exhaustive,
    elapsedMs: report.elapsedMs,
  };
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
    let raw: unknown;
    try {
      raw = openapi !== undefined ? openApiRouteRows(openapi) : JSON.parse(readFileSync(config as string, 'utf8'));
    } catch (error) {
      // The parser's message quotes the text, which may hold a secret: say where, not what.
      if (!(error instanceof SyntaxError)) throw error;
      const at = /position \d+/.exec(error.message)?.[0];
      throw new Error(`not valid JSON${at ? ` (at ${at})` : ''}`);
    }
    parsed = readRouteConfig(raw);
    explicitTtl = isJsonObject(raw) && raw.policyCacheTtlSeconds !== undefined;
  } catch (error) {
    out(`scopegate verify: ${openapi ?? config}: ${(error as Error).message}`);
    return 2;
  }
  const report = proveRouteTable(parsed.routes, {
    policyCacheTtlSeconds: parsed.policyCacheTtlSeconds,
    unrouted: parsed.unrouted,
    // Only a configuration that says it is uncached may go without exact cached policies.
    uncached: explicitTtl && parsed.policyCacheTtlSeconds === 0,
    ...(compile ? { compile } : {}),
  });
  out(values.json ? JSON.stringify(reportJson(report), null, 2) : formatReport(report, parsed.routes.length));
  return report.proven ? 0 : 1;
}
