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
 * segments; the empty segments it could also match are not requests API Gateway makes,
 * and the root, `METHOD/`, is kept out by writing a leading wildcard `?*`).
 */

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
  const memo = new Map<number, boolean>();
  const width = b.length + 1;
  const go = (i: number, j: number): boolean => {
    const key = i * width + j;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let result: boolean;
    const x = a[i];
    const y = b[j];
    if (x === undefined && y === undefined) result = true;
    else if (x?.t === 'star') result = go(i + 1, j) || (y !== undefined && go(i, j + 1));
    else if (y?.t === 'star') result = go(i, j + 1) || (x !== undefined && go(i + 1, j));
    else if (x === undefined || y === undefined) result = false;
    else result = (x.t !== 'lit' || y.t !== 'lit' || x.v === y.v) && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
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
  return {
    method,
    template,
    allowed,
    templateToks,
    globToks,
    glob: globParts.length === 1 ? `${method}/` : globParts.join('/'),
    spills,
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
  const allowed = entries.filter((e) => e.allowed);
  const denied = entries.filter((e) => !e.allowed);
  const allow = new Set(allowed.map((e) => e.glob));
  const deny = new Set<string>();
  const inexact: PolicyInexactness[] = [];

  // Requests a denied route governs that some Allow pattern also matches: deny them,
  // even at the cost of an allowed route (safety first), and say so.
  for (const d of denied) {
    if (!allowed.some((a) => a.method === d.method && intersects(a.globToks, d.templateToks))) continue;
    deny.add(d.glob);
    if (allowed.some((r) => denyHurts(d, r))) inexact.push({ kind: 'over_deny', pattern: d.glob });
  }
  // Requests deeper than an allowed `{name}` route that its `*` swallows: deny them where
  // the Deny hurts no allowed route.
  for (const a of allowed) {
    for (const spill of a.spills) {
      if (deny.has(spill.glob)) continue;
      if (allowed.some((r) => r.method === a.method && intersects(spill.toks, r.templateToks))) {
        if (!inexact.some((x) => x.pattern === spill.glob)) inexact.push({ kind: 'unrouted_allowed', pattern: spill.glob });
        continue;
      }
      deny.add(spill.glob);
    }
  }
  return { allow: [...allow], deny: [...deny], inexact };
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
