import { type AuthorizerConfig, DEFAULT_ROUTE_PATH, Unrouted } from '../core/config';
import { isJsonObject } from '../core/json';
import { isProfileName, PROFILE_NAMES } from '../core/profiles';
import { commandArgs } from './args';
import { httpSender, type ProbeResult, runBattery, type Sender } from './probe-http';
import { buildBattery, type ProbeModel, pathRoutes, routeName } from './probe-plan';
import { satisfies } from './probe-predict';
import { formatProbeReport, type ProbeSetting, probeReportJson } from './probe-report';
import { checkStageUrl, readToken, redacting, UsageError } from './probe-token';
import { readRouteSource } from './route-source';

// The probe's parts, for its tests: the battery, the prediction and the reading of an answer.
export { classifyAnswer } from './probe-http';
export { buildBattery, type ProbeKind, type ProbeModel, type TokenFacts } from './probe-plan';
export { predict } from './probe-predict';

export const PROBE_HELP = `Usage: scopegate probe --url https://API_HOST/STAGE --token TOKEN (--config FILE | --openapi FILE) [options]

Checks a deployed API against the model, after "cdk deploy": sends a bounded set of requests
with the token (each route with its parameters filled in; "/x/", "//", "%2F" inside a
parameter, a literal segment in another case, HEAD and OPTIONS, a path no route matches, one
segment deeper than a {name} route) and compares each answer's authorization outcome with
what the route table, the token's scopes and the proof's model of API Gateway predict:
  backend      passed to the backend (any answer that is not API Gateway's own, below)
  denied       403 AccessDeniedException: the authorizer's policy denied it
  no-route     403 MissingAuthenticationTokenException: no resource and method match
  unauthorized 401 UnauthorizedException: the token was refused
API Gateway's own answers are told by their x-amzn-ErrorType header. Each difference is
printed with the request, the prediction, the answer and the assumption it tests.

Options:
  --url URL          the stage's URL (https; http only to a loopback address)
  --token TOKEN      a JWT access token (with or without "Bearer "); its claims are read, not
                     verified, and it is sent to the --url host only
  --config FILE      the authorizer configuration (or a file of routes only)
  --openapi FILE     an OpenAPI 3 document (a SpecRestApi: "unrouted": "unreachable")
  --profile NAME     the issuer profile that reads the token's scopes when the file names no
                     issuer (${PROFILE_NAMES.join(', ')}; default rfc9068)
  --max N            send at most N requests (default 200, at most 1000)
  --timeout-ms MS    per-request deadline (default 10000)
  --allow-writes     also send POST, PUT, PATCH and DELETE requests the model predicts reach
                     the backend (by default they are listed, not sent)
  --json             machine-readable output
  -h, --help         this text

Requests go one at a time, without a body. A request predicted to be refused is sent whatever
its method: if the API lets it through, that is the difference to find, and the backend saw it.

Exit status: 0 every answer agrees with the prediction; 1 a difference; 2 a usage or
configuration error, or a token API Gateway would refuse outright.`;

/** `scopegate probe`: returns the exit status. `send` replaces the HTTP client (tests). */
export async function probeCommand(argv: string[], print: (text: string) => void = console.log, send?: Sender): Promise<number> {
  const out = redacting(argv, print);
  const values = commandArgs(
    argv,
    {
      url: { type: 'string' },
      token: { type: 'string' },
      config: { type: 'string' },
      openapi: { type: 'string' },
      profile: { type: 'string' },
      max: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'allow-writes': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    PROBE_HELP,
    out,
  );
  if (typeof values === 'number') return values;
  const usage = (message: string) => {
    out(`scopegate probe: ${message}\n\n${PROBE_HELP}`);
    return 2;
  };
  const config = typeof values.config === 'string' ? values.config : undefined;
  const openapi = typeof values.openapi === 'string' ? values.openapi : undefined;
  if ((config === undefined) === (openapi === undefined)) return usage('give one of --config FILE and --openapi FILE');
  if (typeof values.url !== 'string') return usage('--url is required');
  const token = String(values.token ?? '')
    .replace(/^bearer\s+/i, '')
    .trim();
  if (token.length === 0) return usage('--token is required');
  const max = values.max === undefined ? 200 : Number(values.max);
  if (!Number.isInteger(max) || max < 1 || max > 1000) return usage('--max is a whole number from 1 to 1000');
  const timeoutMs = values['timeout-ms'] === undefined ? 10000 : Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60000) return usage('--timeout-ms is a whole number from 1 to 60000');
  const profileName = values.profile ?? 'rfc9068';
  if (!isProfileName(profileName)) return usage(`--profile is one of ${PROFILE_NAMES.join(', ')}`);

  let url: URL;
  try {
    url = checkStageUrl(values.url);
  } catch (error) {
    return usage((error as Error).message);
  }
  let parsed: AuthorizerConfig;
  let issuersGiven: boolean;
  try {
    const source = readRouteSource(config, openapi);
    parsed = source.config;
    issuersGiven = isJsonObject(source.raw) && 'issuers' in source.raw;
  } catch (error) {
    out(`scopegate probe: ${openapi ?? config}: ${(error as Error).message}`);
    return 2;
  }
  const model: ProbeModel = {
    routes: parsed.routes,
    // A SpecRestApi imported from the document has exactly its paths as resources.
    unrouted: openapi !== undefined ? Unrouted.UNREACHABLE : parsed.unrouted,
    enforcement: parsed.enforcement,
    policyCacheTtlSeconds: parsed.policyCacheTtlSeconds,
  };
  let read: ReturnType<typeof readToken>;
  try {
    read = readToken(token, parsed, issuersGiven && openapi === undefined, profileName);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    out(`scopegate probe: ${error.message}`);
    return 2;
  }
  const nowSeconds = Date.now() / 1000;
  const verdicts = pathRoutes(model).concat(model.routes.filter((r) => r.path === DEFAULT_ROUTE_PATH));
  const met = verdicts.map((r) => ({ name: routeName(r), ok: satisfies(r, read.facts, model.policyCacheTtlSeconds, nowSeconds).ok }));
  const { probes, dropped } = buildBattery(model, max);
  const setting: ProbeSetting = {
    url: url.href.replace(/\/$/, ''),
    routes: model.routes.length,
    unrouted: model.unrouted,
    unroutedFrom: openapi !== undefined ? 'openapi' : 'configuration',
    issuer: read.issuer?.issuer,
    profile: read.profile,
    scopeClaim: read.scopeClaim,
    scopes: [...read.facts.scopes],
    authAgeSeconds: read.facts.authTime === undefined ? undefined : Math.round(nowSeconds - read.facts.authTime),
    expiresInSeconds: Math.round(read.exp - nowSeconds),
    satisfied: met.filter((m) => m.ok).map((m) => m.name),
    lacking: met.filter((m) => !m.ok).map((m) => m.name),
    dropped: dropped.length,
  };
  const sender = send ? { send, close: () => undefined } : httpSender(url, `Bearer ${token}`, timeoutMs);
  let results: ProbeResult[];
  try {
    results = await runBattery(model, read.facts, probes, sender.send, { allowWrites: values['allow-writes'] === true });
  } finally {
    sender.close();
  }
  out(values.json ? JSON.stringify(probeReportJson(results, setting), null, 2) : formatProbeReport(results, setting));
  return results.every((r) => r.observed === undefined || r.agree) ? 0 : 1;
}
