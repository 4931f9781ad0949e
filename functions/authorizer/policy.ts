import { HTTP_METHODS, type HttpMethod } from './config';
import { compareSpecificity, type RouteTemplate } from './routes';

/**
 * Compiles the IAM policy an authorizer returns for a token.
 *
 * API Gateway caches the policy by token and evaluates it for every later request with
 * that token, so it must answer for the whole API, not just the route asked. IAM
 * evaluates it with explicit Deny winning over Allow, and `*` in a resource matching any
 * characters, `/` included. So `GET/telemetry/*` (for `GET /telemetry/{id}`) also matches
 * `GET/telemetry/a/b`; the compiler subtracts such spill with Deny patterns that have
 * more `/` than any request of the allowed route and so cannot touch it.
 *
 * Reasoning works on token sequences over path segments: `lit` matches one segment
 * equal to its value, `one` one segment, `star` zero or more segments. A template
 * `{name}` is `one`, `{name+}` is `one star`; a glob `*` is `one star` (one or more whole
 * segments; the empty segments it could also match are denied by {@link EMPTY_SEGMENT_DENIES},
 * and the root, `METHOD/`, is kept out by writing a leading wildcard `?*`).
 */

/**
 * Requests with an empty path segment: a double slash anywhere (`GET//a`, `GET/a//b`), or a
 * trailing slash after a segment (`GET/a/`; the root `GET/` keeps its own). API Gateway
 * routes `/x/` to the resource `/x`, and does not document what it makes of `/a//b`; IAM
 * globs cannot tell `/x/` of an allowed route from `/x/` of a denied one without doubling
 * the policy, so every such request is denied. A client never needs to send one.
 */
export const EMPTY_SEGMENT_DENIES: readonly string[] = ['*//*', '*/?*/'];

/** A token of a segment pattern. */
type Tok = { t: 'lit'; v: string } | { t: 'one' } | { t: 'star' };

const ONE: Tok = { t: 'one' };
const STAR: Tok = { t: 'star' };

/** A route as the compiler sees it: one concrete method, its template, its verdict. */
interface Entry {
  method: HttpMethod;
  template: RouteTemplate;
  allowed: boolean;
  /** Tokens of the requests the route's template matches. */
  templateToks: Tok[];
  /** Tokens of what its glob matches in IAM. */
  globToks: Tok[];
  glob: string;
  /** The globs for requests deeper than the template that the glob also matches. */
  spills: { glob: string; toks: Tok[] }[];
  /**
   * One pattern for all of the spill, when the route has a `{name}` and no `{name+}`: its
   * literal prefix up to the first wildcard, then wildcards for one segment more than the
   * route has. It covers every spill (and other deeper requests), so it is used only where
   * it hurts no allowed route.
   */
  deeper: { glob: string; toks: Tok[] } | undefined;
}

/** Where the compiled policy cannot be exact (IAM globs cannot express the difference). */
export interface PolicyInexactness {
  /** `over_deny`: an allowed route is denied to keep a denied one denied.
   *  `unrouted_allowed`: requests that no route matches stay allowed (API Gateway answers
   *  them itself when its resources are the route table's). */
  kind: 'over_deny' | 'unrouted_allowed';
  /** The IAM resource pattern (after the stage) concerned. */
  pattern: string;
}

/** The resource patterns of a policy, relative to `apiId/stage/`. */
export interface CompiledPolicy {
  allow: string[];
  deny: string[];
  inexact: PolicyInexactness[];
}

/** The route fields the compiler reads. */
export interface PolicyRoute {
  method: HttpMethod | '*';
  template: RouteTemplate;
}

function intersects(a: readonly Tok[], b: readonly Tok[]): boolean {
  // Fast path: most pairs differ in a leading literal (another method, another resource).
  for (let k = 0; k < a.length && k < b.length; k++) {
    const x = a[k] as Tok;
    const y = b[k] as Tok;
    if (x.t !== 'lit' || y.t !== 'lit') break;
    if (x.v !== y.v) return false;
  }
  // dp[i][j]: the suffixes a[i..] and b[j..] match a common request. Filled backwards.
  const la = a.length;
  const lb = b.length;
  const w = lb + 1;
  const dp = new Uint8Array((la + 1) * w);
  for (let i = la; i >= 0; i--) {
    for (let j = lb; j >= 0; j--) {
      const x = a[i];
      const y = b[j];
      let r: boolean;
      if (x === undefined && y === undefined) r = true;
      else if (x?.t === 'star') r = dp[(i + 1) * w + j] === 1 || (y !== undefined && dp[i * w + j + 1] === 1);
      else if (y?.t === 'star') r = dp[i * w + j + 1] === 1 || (x !== undefined && dp[(i + 1) * w + j] === 1);
      else if (x === undefined || y === undefined) r = false;
      else r = (x.t !== 'lit' || y.t !== 'lit' || x.v === y.v) && dp[(i + 1) * w + j + 1] === 1;
      dp[i * w + j] = r ? 1 : 0;
    }
  }
  return dp[0] === 1;
}

/**
 * Whether every request `inner` matches is matched by `outer` (both globs as tokens):
 * `outer`'s `star` may absorb any run of `inner`'s tokens, its `one` any single `lit` or
 * `one`, its `lit` only the same `lit`.
 */
function covers(outer: readonly Tok[], inner: readonly Tok[]): boolean {
  for (let k = 0; k < outer.length && k < inner.length; k++) {
    const x = outer[k] as Tok;
    const y = inner[k] as Tok;
    if (x.t !== 'lit' || y.t !== 'lit') break;
    if (x.v !== y.v) return false;
  }
  // dp[i][j]: outer[i..] covers inner[j..]. Filled backwards.
  const lo = outer.length;
  const li = inner.length;
  const w = li + 1;
  const dp = new Uint8Array((lo + 1) * w);
  for (let i = lo; i >= 0; i--) {
    for (let j = li; j >= 0; j--) {
      const x = outer[i];
      const y = inner[j];
      let r: boolean;
      if (x === undefined) r = y === undefined;
      else if (x.t === 'star') r = dp[(i + 1) * w + j] === 1 || (y !== undefined && dp[i * w + j + 1] === 1);
      else if (y === undefined || y.t === 'star') r = false;
      else if (x.t === 'one') r = dp[(i + 1) * w + j + 1] === 1;
      else r = y.t === 'lit' && y.v === x.v && dp[(i + 1) * w + j + 1] === 1;
      dp[i * w + j] = r ? 1 : 0;
    }
  }
  return dp[0] === 1;
}

/** Drop the patterns another pattern of the list already covers (IAM's answer is the same). */
function withoutCovered(patterns: { glob: string; toks: Tok[] }[]): string[] {
  // A pattern can only be covered by one of its method whose first segment is the same
  // literal or a wildcard: compare within those groups.
  const groups = new Map<string, number[]>();
  patterns.forEach((p, i) => {
    push(groups, firstKey((p.toks[0] as { v: string }).v, p.toks), i);
  });
  return patterns
    .filter((p, i) => {
      const method = (p.toks[0] as { v: string }).v;
      const key = firstKey(method, p.toks);
      const near = key.endsWith('|*') || key.endsWith('|/') ? [key] : [key, `${method}|*`];
      return !near.some((k) =>
        (groups.get(k) ?? []).some((j) => {
          const q = patterns[j] as (typeof patterns)[number];
          return j !== i && covers(q.toks, p.toks) && (!covers(p.toks, q.toks) || j < i);
        }),
      );
    })
    .map((p) => p.glob);
}

function lit(v: string): Tok {
  return { t: 'lit', v };
}

function makeEntry(method: HttpMethod, template: RouteTemplate, allowed: boolean): Entry {
  const templateToks: Tok[] = [lit(method)];
  const globToks: Tok[] = [lit(method)];
  const globParts: string[] = [method];
  for (const seg of template.segments) {
    if (seg.kind === 'literal') {
      templateToks.push(lit(seg.value));
      globToks.push(lit(seg.value));
      globParts.push(seg.value);
    } else {
      templateToks.push(...(seg.kind === 'param' ? [ONE] : [ONE, STAR]));
      globToks.push(ONE, STAR);
      // `?*` in the first place: a bare `METHOD/*` would also match the root, `METHOD/`.
      globParts.push(globParts.length === 1 ? '?*' : '*');
    }
  }
  const spills: Entry['spills'] = [];
  // A `*` standing for `{name}` that swallows two or more segments: the glob with that `*`
  // written `*/*` matches exactly those requests. Without a `{name+}` they are all deeper
  // than the route; with one, some may be the route's own (the compiler checks).
  template.segments.forEach((seg, i) => {
    if (seg.kind !== 'param') return;
    const parts = [...globParts];
    parts[i + 1] = `${parts[i + 1]}/*`;
    // The glob's tokens, with the i-th wildcard doubled.
    const toks: Tok[] = [lit(method)];
    template.segments.forEach((s, k) => {
      if (s.kind === 'literal') toks.push(lit(s.value));
      else toks.push(ONE, STAR, ...(k === i ? [ONE, STAR] : []));
    });
    spills.push({ glob: parts.join('/'), toks });
  });
  let deeper: Entry['deeper'];
  const first = template.segments.findIndex((seg) => seg.kind !== 'literal');
  if (first >= 0 && !template.segments.some((seg) => seg.kind === 'greedy')) {
    const parts = globParts.slice(0, first + 1);
    const toks = globToks.slice(0, first + 1);
    for (let k = first; k <= template.segments.length; k++) {
      parts.push(parts.length === 1 ? '?*' : '*');
      toks.push(ONE, STAR);
    }
    deeper = { glob: parts.join('/'), toks };
  }
  return {
    method,
    template,
    allowed,
    templateToks,
    globToks,
    glob: globParts.length === 1 ? `${method}/` : globParts.join('/'),
    spills,
    deeper,
  };
}

/** Expand `*` routes into the methods no exact route of the same template claims. */
function expand(routes: readonly PolicyRoute[], isAllowed: (index: number) => boolean): Entry[] {
  const exact = new Set<string>();
  for (const route of routes) if (route.method !== '*') exact.add(`${route.method} ${route.template.key}`);
  const entries: Entry[] = [];
  routes.forEach((route, index) => {
    const allowed = isAllowed(index);
    if (route.method !== '*') {
      entries.push(makeEntry(route.method, route.template, allowed));
      return;
    }
    for (const method of HTTP_METHODS) {
      if (!exact.has(`${method} ${route.template.key}`)) entries.push(makeEntry(method, route.template, allowed));
    }
  });
  return entries;
}

/**
 * Whether a Deny of `d`'s glob really takes a request from allowed route `r`: the
 * intersection must hold a request that routes to `r`. When `d` is more specific than
 * `r`, requests of both templates route to `d` (or further), so only `d`'s spill counts.
 */
function denyHurts(d: Entry, r: Entry): boolean {
  if (d.method !== r.method || !intersects(d.globToks, r.templateToks)) return false;
  if (compareSpecificity(d.template, r.template) < 0) {
    return d.spills.some((s) => intersects(s.toks, r.templateToks));
  }
  return true;
}

/**
 * Compile the resource patterns for a token whose verdict per route is `isAllowed`.
 * Allowed requests are never denied unless `inexact` says `over_deny`; a request a denied
 * route governs is never allowed; a request no route matches is denied unless `inexact`
 * says `unrouted_allowed`.
 */
export function compilePolicy(routes: readonly PolicyRoute[], isAllowed: (index: number) => boolean): CompiledPolicy {
  const entries = expand(routes, isAllowed);
  const allowed = new EntryIndex(entries.filter((e) => e.allowed));
  const denied = entries.filter((e) => !e.allowed);
  const deny = new Map<string, Tok[]>();
  const inexact: PolicyInexactness[] = [];

  // Requests a denied route governs that some Allow pattern also matches: deny them,
  // even at the cost of an allowed route (safety first), and say so.
  for (const d of denied) {
    if (!allowed.near(d.method, d.templateToks).some((a) => intersects(a.globToks, d.templateToks))) continue;
    deny.set(d.glob, d.globToks);
    if (allowed.near(d.method, d.globToks).some((r) => denyHurts(d, r))) inexact.push({ kind: 'over_deny', pattern: d.glob });
  }
  // Requests deeper than an allowed `{name}` route that its `*` swallows: deny them where
  // the Deny hurts no allowed route.
  const spillDenies = new Map<string, Tok[]>();
  const leftOpen: Tok[][] = [];
  const hurtsAllowed = (method: string, toks: Tok[]) => allowed.near(method, toks).some((r) => intersects(toks, r.templateToks));
  for (const a of allowed.all) {
    if (a.deeper !== undefined && !hurtsAllowed(a.method, a.deeper.toks)) {
      spillDenies.set(a.deeper.glob, a.deeper.toks);
      continue;
    }
    for (const spill of a.spills) {
      if (deny.has(spill.glob) || spillDenies.has(spill.glob)) continue;
      if (hurtsAllowed(a.method, spill.toks)) {
        if (!inexact.some((x) => x.pattern === spill.glob)) {
          inexact.push({ kind: 'unrouted_allowed', pattern: spill.glob });
          leftOpen.push(spill.toks);
        }
        continue;
      }
      spillDenies.set(spill.glob, spill.toks);
    }
  }
  // A spill Deny inside a region already left open for unrouted requests buys no exactness
  // (those requests never reach an authorizer): leave it out and keep the policy small.
  for (const [glob, toks] of spillDenies) if (!leftOpen.some((open) => covers(open, toks))) deny.set(glob, toks);
  const allow = withoutCovered(allowed.all.map((e) => ({ glob: e.glob, toks: e.globToks })));
  return {
    allow,
    // The token model above knows no empty segments, but a `*` matches them: deny them all
    // wherever an Allow pattern has a `*` (a literal pattern cannot match them).
    deny: [
      ...withoutCovered([...deny].map(([glob, toks]) => ({ glob, toks }))),
      ...(allow.some((p) => p.includes('*')) ? EMPTY_SEGMENT_DENIES : []),
    ],
    inexact,
  };
}

/**
 * Entries grouped by method and first path segment, so that a query only meets the
 * entries it can intersect: those of its method whose first segment is the same literal,
 * or a wildcard.
 */
class EntryIndex {
  private readonly byFirst = new Map<string, Entry[]>();
  private readonly byMethod = new Map<string, Entry[]>();

  constructor(readonly all: Entry[]) {
    for (const e of all) {
      push(this.byMethod, e.method, e);
      push(this.byFirst, firstKey(e.method, e.templateToks), e);
    }
  }

  /** The entries that may intersect `toks` (a superset of those that do). */
  near(method: string, toks: readonly Tok[]): Entry[] {
    const first = toks[1];
    if (first === undefined || first.t !== 'lit') return this.byMethod.get(method) ?? [];
    return [...(this.byFirst.get(`${method}|=${first.v}`) ?? []), ...(this.byFirst.get(`${method}|*`) ?? [])];
  }
}

function firstKey(method: string, toks: readonly Tok[]): string {
  const first = toks[1];
  if (first === undefined) return `${method}|/`;
  return first.t === 'lit' ? `${method}|=${first.v}` : `${method}|*`;
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** An IAM policy document as API Gateway expects it from an authorizer. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: { Action: 'execute-api:Invoke'; Effect: 'Allow' | 'Deny'; Resource: string[] }[];
}

/**
 * Render compiled patterns as a policy for one API stage. `arnPrefix` is
 * `arn:PARTITION:execute-api:REGION:ACCOUNT:API_ID/STAGE/`. With nothing allowed, the
 * policy denies the whole API.
 */
export function renderPolicy(compiled: CompiledPolicy, arnPrefix: string): PolicyDocument {
  const statements: PolicyDocument['Statement'] = [];
  if (compiled.allow.length > 0) {
    statements.push({ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: compiled.allow.map((p) => arnPrefix + p) });
  }
  const deny = compiled.allow.length > 0 ? compiled.deny.map((p) => arnPrefix + p) : [`${arnPrefix}*`];
  if (deny.length > 0) statements.push({ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: deny });
  return { Version: '2012-10-17', Statement: statements };
}

/** IAM wildcards in a request ARN, each written `?`: the pattern then matches that ARN and ones differing only there. */
const WILDCARDS = /[*?]/g;

/**
 * A policy for one request only: Allow its ARN (the IAM wildcards a path may hold written
 * `?`), or Deny the whole API stage. For answers that no cache may reuse for another request.
 */
export function singleRequestPolicy(requestArn: string, arnPrefix: string, allow: boolean): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      allow
        ? { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [requestArn.replace(WILDCARDS, '?')] }
        : { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${arnPrefix}*`] },
    ],
  };
}
