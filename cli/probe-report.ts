import { Unrouted } from '../core/config';
import type { ProfileName } from '../core/profiles';
import type { ProbeResult } from './probe-http';
import { type Observed, type Outcome, PROBE_TESTS, type ProbeKind } from './probe-plan';

const OUTCOME_TEXT: Record<Outcome, string> = {
  backend: 'passed to the backend',
  denied: '403 AccessDeniedException (the policy)',
  'no-route': '403 MissingAuthenticationTokenException (no resource and method)',
  unauthorized: '401 UnauthorizedException (the token refused)',
  'gateway-error': "another of API Gateway's own answers",
  'no-answer': 'no answer',
};

/** What a difference most likely means, by what was predicted and what came back. */
export function meaning(predicted: Outcome, observed: Observed, kind: ProbeKind): string {
  switch (observed.outcome) {
    case 'backend':
      return 'API Gateway let through a request the model says is refused: the deployed API or authorizer is not what the model says (another route table, another authorizer on the method, or a path API Gateway reads otherwise). Act on this one.';
    case 'denied':
      if (predicted === 'no-route') {
        return 'the request reached the authorizer: API Gateway has a resource and method for it that the route table lacks, so "unrouted": "unreachable" does not hold for this API (use "deny", or add the route)';
      }
      return kind === 'encoded-slash'
        ? 'the policy denied it: API Gateway gives the authorizer the parameter decoded (%2F as "/"), or routes it otherwise'
        : 'the policy denied a request the model allows: the deployed authorizer has another route table or scopes, or a policy cached before the last deploy still answers (docs/deploying.md, "After a deploy")';
    case 'no-route':
      return predicted === 'denied' &&
        (kind === 'unrouted' || kind === 'deeper' || kind === 'case' || kind === 'head' || kind === 'options')
        ? 'API Gateway answered itself: it has no resource and method for this request, which "unrouted": "unreachable" describes (the construct sets it where it created the resources)'
        : 'API Gateway has no resource and method for a request the model routes: the route is not deployed to this stage, or API Gateway routes this path otherwise';
    case 'unauthorized':
      return 'the token was refused (401): it expired during the run, or is not valid for this API (scopegate explain --token … says why)';
    case 'gateway-error':
      return `API Gateway answered ${observed.errorType ?? ''} (${observed.status}) itself, which is no authorization outcome (throttling, WAF, the authorizer failing): rerun, or read the authorizer's log`;
    default:
      return `no answer: ${observed.detail ?? 'unknown error'}`;
  }
}

function observedText(o: Observed): string {
  if (o.outcome === 'no-answer') return `no answer (${o.detail})`;
  const type = o.errorType ? ` ${o.errorType}` : '';
  return `${o.outcome} — ${o.status}${type}`;
}

/** How the probe was set up, for the text and the JSON. */
export interface ProbeSetting {
  url: string;
  routes: number;
  unrouted: `${Unrouted}`;
  unroutedFrom: 'configuration' | 'openapi';
  issuer: string | undefined;
  profile: ProfileName;
  scopeClaim: string | undefined;
  scopes: string[];
  /** Seconds since the user authenticated, when the token shows it. */
  authAgeSeconds: number | undefined;
  /** Seconds until the token expires. */
  expiresInSeconds: number;
  satisfied: string[];
  lacking: string[];
  dropped: number;
}

/** The report as text: the differences first, each with what it tests and means; then a line per agreeing probe. */
export function formatProbeReport(results: readonly ProbeResult[], setting: ProbeSetting): string {
  const sent = results.filter((r) => r.observed !== undefined);
  const differ = sent.filter((r) => !r.agree);
  const lines: string[] = [];
  lines.push(`scopegate probe: ${sent.length} requests to ${setting.url}, one at a time.`);
  const from = setting.scopeClaim ? `from ${setting.scopeClaim}` : 'no scope claim';
  const age = setting.authAgeSeconds === undefined ? '' : `; authenticated ${setting.authAgeSeconds} s ago`;
  const expires = `; expires in ${setting.expiresInSeconds} s`;
  lines.push(
    `Token: issuer ${setting.issuer ?? '(not checked)'}, profile ${setting.profile}; scopes (${from}): ${setting.scopes.join(' ') || '(none)'}${age}${expires}.`,
  );
  lines.push(`  satisfies: ${setting.satisfied.join(', ') || '(no route)'}`);
  lines.push(`  lacks:     ${setting.lacking.join(', ') || '(no route: no request of a route the token lacks was probed)'}`);
  const unrouted =
    setting.unrouted === Unrouted.UNREACHABLE
      ? `requests no route matches are answered by API Gateway itself (${setting.unroutedFrom === 'openapi' ? 'the document is the API' : '"unrouted": "unreachable"'})`
      : 'requests no route matches reach the authorizer and are denied ("unrouted": "deny")';
  lines.push(`Model: ${setting.routes} routes; ${unrouted}.`);
  for (const r of differ) {
    const o = r.observed as Observed;
    const t = PROBE_TESTS[r.probe.kind];
    lines.push(
      '',
      `DIFFERS  ${r.probe.method} ${r.probe.path}`,
      `  predicted: ${r.predicted.outcome} — ${OUTCOME_TEXT[r.predicted.outcome]}: ${r.predicted.why}`,
      `  observed:  ${observedText(o)}`,
      `  tests:     ${t.assumption ? '(assumption) ' : ''}${t.tests}${r.probe.from ? ` [from ${r.probe.from}]` : ''}`,
      `  means:     ${meaning(r.predicted.outcome, o, r.probe.kind)}`,
    );
  }
  const agreeing = sent.filter((r) => r.agree);
  if (agreeing.length > 0) {
    lines.push('', 'Agree:');
    const width = Math.max(...agreeing.map((r) => `${r.probe.method} ${r.probe.path}`.length));
    for (const r of agreeing) {
      const o = r.observed as Observed;
      const flag = PROBE_TESTS[r.probe.kind].assumption ? ' (assumption)' : '';
      lines.push(
        `  ${`${r.probe.method} ${r.probe.path}`.padEnd(width)}  ${o.outcome.padEnd(8)} ${String(o.status).padEnd(3)}  ${r.probe.kind}${flag}: ${r.predicted.why}`,
      );
    }
  }
  const skipped = results.filter((r) => r.notSent !== undefined);
  if (skipped.length > 0 || setting.dropped > 0) {
    lines.push('', 'Not sent:');
    for (const r of skipped) lines.push(`  ${r.probe.method} ${r.probe.path}: ${r.notSent}`);
    if (setting.dropped > 0) lines.push(`  ${setting.dropped} more requests of the battery: over --max`);
  }
  lines.push('');
  if (sent.length > 0 && sent.every((r) => r.observed?.outcome === 'unauthorized')) {
    lines.push('Every request was answered 401: the token itself is refused (scopegate explain --token … says why).');
  }
  lines.push(
    differ.length === 0
      ? `All ${sent.length} answers agree with the model.`
      : `${differ.length} of ${sent.length} answers differ from the model (exit 1).`,
  );
  return lines.join('\n');
}

/** The report as JSON (docs/deploying.md lists the fields). */
export function probeReportJson(results: readonly ProbeResult[], setting: ProbeSetting): Record<string, unknown> {
  const sent = results.filter((r) => r.observed !== undefined);
  return {
    agree: sent.every((r) => r.agree),
    url: setting.url,
    sent: sent.length,
    differences: sent.filter((r) => !r.agree).length,
    token: {
      issuer: setting.issuer ?? null,
      profile: setting.profile,
      scopeClaim: setting.scopeClaim ?? null,
      scopes: setting.scopes,
      authAgeSeconds: setting.authAgeSeconds ?? null,
      expiresInSeconds: setting.expiresInSeconds,
      satisfied: setting.satisfied,
      lacking: setting.lacking,
    },
    unrouted: setting.unrouted,
    probes: results.map((r) => ({
      request: `${r.probe.method} ${r.probe.path}`,
      kind: r.probe.kind,
      from: r.probe.from ?? null,
      tests: PROBE_TESTS[r.probe.kind].tests,
      assumption: PROBE_TESTS[r.probe.kind].assumption,
      predicted: r.predicted,
      observed: r.observed ?? null,
      agree: r.agree ?? null,
      ...(r.notSent ? { notSent: r.notSent } : {}),
      ...(r.observed && !r.agree ? { means: meaning(r.predicted.outcome, r.observed, r.probe.kind) } : {}),
    })),
    dropped: setting.dropped,
  };
}
