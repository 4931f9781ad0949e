import { readFileSync } from 'node:fs';
import { type AuthorizerConfig, parseConfigJson } from '../core/config';
import { clientCredentialsMarker, PROFILES } from '../core/profiles';
import type { ReasonCode } from '../core/reasons';
import { DEFAULT_SCOPE_CLAIMS, grantedScopes, scopeClaimOf } from '../core/scopes';
import { Authorizer } from '../functions/authorizer/authorize';
import { HttpsJsonFetcher, JwksUriResolver } from '../functions/authorizer/discovery';
import { HttpsJwksFetcher, KeyStore } from '../functions/authorizer/key-store';
import { decodeJwt } from '../functions/authorizer/token';
import { commandArgs } from './args';
import { PROFILE_DOCS } from './profile-docs';

export const EXPLAIN_HELP = `Usage: scopegate explain --token JWT [--config FILE] [--route "METHOD /path"] [options]

Decodes an access token, verifies it where its keys can be fetched, and prints the decision
for each configured route with its reason: "why is my API answering 401 and not 403?"

Options:
  --token JWT            the access token (with or without "Bearer ")
  --config FILE          the authorizer configuration (default: $AUTHZ_CONFIG)
  --route "METHOD /path" explain one request instead of every route
  --ca FILE              extra trusted CA certificate (PEM) for the key set
  --json                 machine-readable output
  -h, --help             this text

Exit status: 0 when the token verifies, 1 when it does not (401) or cannot be checked, 2 on a usage error.`;

/** What each reason code means, and what to do about it. */
export const REASON_TEXT: Record<ReasonCode, string> = {
  allow: 'the token carries every scope the route requires',
  insufficient_scope: 'the token is valid but lacks a scope the route requires (403): request a token with it',
  step_up_required:
    'the route asks for a recent user authentication (maxAuthAgeSeconds, read from auth_time) that this token does not show (403; RFC 9470 insufficient_user_authentication): authenticate again',
  no_route: 'no configured route matches the request (403): check the method and the path, or add the route',
  over_deny:
    'the token satisfies the route, but no exact cached policy exists for the routes it satisfies, and the route accepts over-deny (acceptOverDeny) (403): see scopegate verify',
  'invalid_token.missing': 'no Authorization value (401)',
  'invalid_token.scheme': 'the Authorization scheme is not Bearer (401)',
  'invalid_token.too_large': 'the Authorization value is larger than maxTokenBytes (401): too many scopes or claims in the token',
  'invalid_token.malformed': 'not a compact JWS with a kid (401): a JWE, an opaque token, or a corrupted value',
  'invalid_token.algorithm': 'the alg is not accepted for this issuer (401): HS*, none and unlisted algorithms are refused',
  'invalid_token.crit': 'the token names critical header extensions, which are refused (401)',
  'invalid_token.type': 'the typ header is not the required token type (401): an ID token or another JWT was sent as an access token',
  'invalid_token.issuer': 'the iss claim names no configured issuer, exactly (401): check trailing slashes and case',
  'invalid_token.unknown_kid':
    'the kid is not in the issuer key set, even after a refetch (401): a token of another environment, or a key rotated out',
  'invalid_token.key_mismatch': 'the key named by kid is not a signing key for this alg (401)',
  'invalid_token.weak_key': 'the signing key is an RSA key under 2048 bits (401): the issuer must rotate to a stronger key',
  'invalid_token.signature': 'the signature does not verify (401): the token was altered, or signed by another key',
  'invalid_token.expired': 'exp is past, beyond the clock tolerance (401): get a new token, or check the clocks',
  'invalid_token.missing_exp': 'the token has no exp (401): access tokens must expire',
  'invalid_token.not_yet_valid': 'nbf is in the future, beyond the clock tolerance (401): clock skew between the issuer and AWS',
  'invalid_token.issued_in_future': 'iat is in the future, beyond the clock tolerance (401): clock skew between the issuer and AWS',
  'invalid_token.audience':
    'the aud claim names none of the configured audiences (401): request the token for this API (resource/audience)',
  'invalid_token.claims': 'a claim has the wrong type (401)',
  'invalid_token.inactive': 'the authorization server says the (opaque) token is not active: revoked, expired or unknown (401)',
  'invalid_token.sender_constraint': 'the token is bound to a client certificate (cnf x5t#S256) that the request did not present (401)',
  'invalid_token.dpop': 'the token is DPoP-bound and the DPoP proof is missing or invalid (401)',
  'invalid_token.token_use':
    "the issuer profile's rule says this is not an access token (401): an ID token or a refresh token was sent; send the access token",
  'invalid_token.client': "the token's client is not one of the issuer's clientIds, or the token names no client (401)",
  'invalid_token.unverifiable':
    "only the token's own audience can verify it (401): a Microsoft Graph token; request a token for your API instead",
  introspection_unavailable: 'the introspection endpoint did not answer in time (500/503): check the authorization server',
  keys_unavailable: 'the issuer key set cannot be fetched and no key is held for this token (500/503): check the JWKS URL and the network',
  config_unavailable: 'the authorizer configuration cannot be read or is invalid (500)',
  internal_error: 'an unexpected error (500)',
};

/**
 * Why a token's `iss` may match no configured issuer although it looks like one: a trailing
 * slash (Auth0 issues one), or an Entra v1.0 token (`https://sts.windows.net/{tenant}/`)
 * where the v2.0 issuer is configured, or the reverse.
 */
export function issuerHint(iss: unknown, config: AuthorizerConfig): string | undefined {
  if (typeof iss !== 'string') return undefined;
  for (const { issuer } of config.issuers) {
    if (issuer.replace(/\/$/, '') === iss.replace(/\/$/, '')) {
      return `the token's iss ${iss} and the configured ${issuer} differ only by a trailing slash; iss is compared exactly`;
    }
  }
  const v1 = /^https:\/\/sts\.windows\.net\/([^/]+)\/$/.exec(iss)?.[1];
  const v2 = /^https:\/\/[^/]+\/([^/]+)\/v2\.0$/.exec(iss)?.[1];
  for (const { issuer } of config.issuers) {
    if (v1 !== undefined && issuer.endsWith(`/${v1}/v2.0`)) {
      return `this is an Entra v1.0 token for tenant ${v1}: set "accessTokenAcceptedVersion": 2 in the API's app manifest, or configure the issuer ${iss}`;
    }
    if (v2 !== undefined && issuer === `https://sts.windows.net/${v2}/`) {
      return `this is an Entra v2.0 token for tenant ${v2}: configure the issuer ${iss} (v2.0), or accept v1.0 tokens only`;
    }
  }
  return undefined;
}

function when(seconds: unknown, nowSeconds: number): string {
  if (typeof seconds !== 'number') return String(seconds ?? '-');
  const delta = Math.round(seconds - nowSeconds);
  const rel = delta >= 0 ? `in ${delta} s` : `${-delta} s ago`;
  return `${new Date(seconds * 1000).toISOString()} (${rel})`;
}

/**
 * Where the token's scopes come from: the one claim of the issuer's list the token carries,
 * and the listed claims it also carries that grant nothing (never a union).
 */
export function scopeSource(
  payload: Record<string, unknown>,
  claims: readonly string[] | undefined,
): { claim: string | undefined; ignored: string[] } {
  const list = claims === undefined || claims.length === 0 ? DEFAULT_SCOPE_CLAIMS : claims;
  const claim = scopeClaimOf(payload, list);
  return { claim, ignored: list.filter((c) => c !== claim && payload[c] !== undefined) };
}

/** Why a token fails a step-up route: no auth_time, a client-credentials token, or an authentication too old. */
function stepUpDetail(
  payload: Record<string, unknown> | undefined,
  config: AuthorizerConfig,
  maxAuthAgeSeconds: number | undefined,
  nowSeconds: number,
): string {
  const issuer = config.issuers.find((i) => i.issuer === payload?.iss);
  const clientId = issuer ? issuer.clientClaims.map((c) => payload?.[c]).find((v) => typeof v === 'string') : undefined;
  const marker = issuer && payload ? clientCredentialsMarker(PROFILES[issuer.profile], payload, clientId as string | undefined) : undefined;
  const challenge = `RFC 9470's answer: Bearer error="insufficient_user_authentication", max_age="${maxAuthAgeSeconds}"`;
  if (typeof payload?.auth_time !== 'number') {
    return `the token has no auth_time (its iat is when it was issued, not when its user authenticated), so no step-up route accepts it; ${challenge}`;
  }
  if (marker !== undefined) {
    return `a client-credentials token (${marker}): no user authenticated, so no step-up route accepts it, whatever its auth_time`;
  }
  const age = Math.round(nowSeconds - payload.auth_time);
  const cache = config.policyCacheTtlSeconds ? ` minus the ${config.policyCacheTtlSeconds} s policy cache` : '';
  return `authenticated ${age} s ago; the route allows ${maxAuthAgeSeconds} s${cache}; ${challenge}`;
}

function samplePath(path: string): string {
  return path.replace(/\{[^}]+\+\}/g, 'x/y').replace(/\{[^}]+\}/g, 'x');
}

interface Row {
  request: string;
  route: string | undefined;
  status: number;
  reason: ReasonCode;
  detail: string;
  /** What the authorizer said (the profile's rule, for a token it refuses). */
  why?: string;
}

/** `scopegate explain`: returns the exit status. */
export async function explainCommand(
  argv: string[],
  out: (text: string) => void = console.log,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const values = commandArgs(
    argv,
    {
      token: { type: 'string' },
      config: { type: 'string' },
      route: { type: 'string' },
      ca: { type: 'string' },
      json: { type: 'boolean' },
    },
    EXPLAIN_HELP,
    out,
  );
  if (typeof values === 'number') return values;
  const token = String(values.token ?? '')
    .replace(/^bearer\s+/i, '')
    .trim();
  if (token.length === 0) {
    out(`--token is required\n\n${EXPLAIN_HELP}`);
    return 2;
  }
  const nowSeconds = Date.now() / 1000;
  const lines: string[] = [];
  let header: Record<string, unknown> | undefined;
  let payload: Record<string, unknown> | undefined;
  try {
    ({ header, payload } = decodeJwt(token));
  } catch (error) {
    lines.push(`The token cannot be decoded: ${(error as Error).message}. Every route answers 401 (invalid_token.malformed).`);
  }
  if (header && payload) {
    lines.push('Token (decoded, not yet verified):');
    lines.push(`  header: alg=${String(header.alg)} kid=${String(header.kid)} typ=${String(header.typ)}${header.crit ? ' crit=…' : ''}`);
    lines.push(`  iss:    ${String(payload.iss)}`);
    lines.push(`  aud:    ${JSON.stringify(payload.aud)}`);
    lines.push(`  sub:    ${String(payload.sub)}    client_id: ${String(payload.client_id ?? payload.azp ?? '-')}`);
    lines.push(`  scope:  ${JSON.stringify(payload.scope ?? payload.scp ?? null)}`);
    lines.push(`  iat:    ${when(payload.iat, nowSeconds)}`);
    lines.push(`  exp:    ${when(payload.exp, nowSeconds)}`);
    if (payload.nbf !== undefined) lines.push(`  nbf:    ${when(payload.nbf, nowSeconds)}`);
    if (payload.auth_time !== undefined) lines.push(`  auth_time: ${when(payload.auth_time, nowSeconds)}`);
  }

  const configText = values.config ? readFileSync(String(values.config), 'utf8') : env.AUTHZ_CONFIG;
  if (configText === undefined) {
    lines.push('', 'No configuration (--config FILE or $AUTHZ_CONFIG): decoded only, no decisions.');
    out(lines.join('\n'));
    return 1;
  }
  let config: AuthorizerConfig;
  try {
    config = parseConfigJson(configText).config;
  } catch (error) {
    out(`${lines.join('\n')}\n\nThe configuration is invalid: ${(error as Error).message}`);
    return 2;
  }

  const issuer = config.issuers.find((i) => i.issuer === payload?.iss);
  const source = payload ? scopeSource(payload, issuer?.scopeClaims) : { claim: undefined, ignored: [] };
  if (issuer) {
    const profile = PROFILES[issuer.profile];
    lines.push(`  issuer profile: ${profile.name} — ${PROFILE_DOCS[profile.name].summary}`);
    lines.push(
      `  client (${issuer.clientClaims.join(' or ')}): ${String(issuer.clientClaims.map((c) => payload?.[c]).find((v) => v !== undefined) ?? '-')}` +
        (issuer.clientIds ? `; allowed: ${issuer.clientIds.join(', ')}` : ''),
    );
    const claims = (issuer.scopeClaims ?? DEFAULT_SCOPE_CLAIMS).join(', ');
    lines.push(
      `  scopes from: ${source.claim ?? '(none of them)'} (the first of ${claims} that the token carries)` +
        (source.ignored.length > 0 ? `; ignored: ${source.ignored.join(', ')}` : ''),
    );
  }
  const ca = values.ca ? readFileSync(String(values.ca), 'utf8') : undefined;
  const keys = new KeyStore({
    fetcher: new HttpsJwksFetcher({ timeoutMs: config.jwks.timeoutMs, maxBytes: config.jwks.maxBytes, ca }),
    minRsaBits: config.minRsaBits,
  });
  const discovery = new JwksUriResolver({
    fetcher: new HttpsJsonFetcher({ timeoutMs: config.jwks.timeoutMs, maxBytes: config.jwks.maxBytes, ca }),
  });
  const authorizer = new Authorizer({ config, keys, discovery });
  const requests: { method: string; path: string }[] = [];
  if (values.route) {
    const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(String(values.route));
    if (!match) {
      out(`--route must look like "GET /telemetry/s1"\n\n${EXPLAIN_HELP}`);
      return 2;
    }
    requests.push({ method: (match[1] as string).toUpperCase(), path: match[2] as string });
  } else {
    // The HTTP API `$default` row has no path a REST request could take.
    for (const r of config.routes) {
      if (r.path !== '$default') requests.push({ method: r.method === '*' ? 'GET' : r.method, path: samplePath(r.path) });
    }
  }
  const rows: Row[] = [];
  let verified = true;
  for (const req of requests) {
    const decision = await authorizer.decide(
      `Bearer ${token}`,
      `arn:aws:execute-api:local:123456789012:explain/stage/${req.method}${req.path}`,
    );
    const record = decision.record;
    const status = decision.outcome === 'policy' ? (decision.allowed ? 200 : 403) : decision.outcome === 'unauthorized' ? 401 : 500;
    if (decision.outcome !== 'policy') verified = false;
    let detail = REASON_TEXT[record.reason];
    if (record.reason === 'insufficient_scope') {
      detail = `missing ${record.missingScopes?.join(', ') ?? record.missingAnyOf?.map((set) => set.join(' + ')).join(', or ')}`;
    }
    if (record.reason === 'step_up_required') {
      const route = config.routes.find((r) => `${r.method} ${r.path}` === record.route);
      detail = stepUpDetail(payload, config, route?.maxAuthAgeSeconds, nowSeconds);
    }
    if (decision.outcome !== 'policy' && record.detail) detail = `${detail} — ${record.detail}`;
    if (record.enforced === false && record.reason !== 'allow') detail = `report-only, let through: would be ${record.reason}, ${detail}`;
    rows.push({
      request: `${req.method} ${req.path}`,
      route: record.route,
      status,
      reason: record.reason,
      detail,
      ...(decision.outcome !== 'policy' && record.detail ? { why: record.detail } : {}),
    });
  }

  if (values.json) {
    const scopes = { scopeClaim: source.claim ?? null, ignoredScopeClaims: source.ignored };
    out(JSON.stringify({ header, payload, ...(issuer ? { profile: issuer.profile } : {}), ...scopes, verified, decisions: rows }, null, 2));
    return verified ? 0 : 1;
  }
  const first = rows[0];
  lines.push('');
  if (!verified && first) {
    lines.push(`The token is not accepted: ${first.status} ${first.reason}.`);
    lines.push(`  ${REASON_TEXT[first.reason]}`);
    if (first.why) lines.push(`  Why: ${first.why}.`);
    const hint = first.reason === 'invalid_token.issuer' ? issuerHint(payload?.iss, config) : undefined;
    if (hint) lines.push(`  Hint: ${hint}`);
    lines.push('  A 401 means the token itself is refused, whatever the route; a 403 would mean a valid token without the scope.');
  } else {
    const granted = payload ? grantedScopes(payload, issuer?.scopeClaims) : [];
    const from = source.claim === undefined ? 'no scope claim of the issuer is in the token' : `from the ${source.claim} claim`;
    lines.push(
      `The token verifies (signature, issuer, audience, times, type). Scopes granted (${from}): ${granted.join(' ') || '(none)'}.`,
    );
    if (source.ignored.length > 0) {
      const list = (issuer?.scopeClaims ?? DEFAULT_SCOPE_CLAIMS).join(', ');
      lines.push(
        `  Ignored: ${source.ignored.join(', ')}. Scopes come from one claim, the first of ${list} that the token carries, never a union.`,
      );
    }
    lines.push('  Routes it lacks scopes for answer 403 (insufficient_scope), not 401.');
  }
  lines.push('', 'Decisions:');
  const width = Math.max(...rows.map((r) => r.request.length), 10);
  for (const row of rows) lines.push(`  ${row.request.padEnd(width)}  ${row.status}  ${row.reason.padEnd(22)} ${row.detail}`);
  out(lines.join('\n'));
  return verified ? 0 : 1;
}
