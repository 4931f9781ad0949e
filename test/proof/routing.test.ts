import fc from 'fast-check';
import { type HttpMethod, Unrouted } from '../../functions/authorizer/config';
import { compilePolicy, renderPolicy } from '../../functions/authorizer/policy';
import { parseRouteTemplate, resolveRoute } from '../../functions/authorizer/routes';
import { Alphabet } from '../../proof/automaton';
import { type PolicyCompiler, type ProofRoute, proveRouteSets } from '../../proof/prove';
import { Router } from '../../proof/routing';
import { evaluate } from '../support/iam';
import { refaCounterexamples } from './support/refa-oracle';

const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';
const LITERALS = ['a', 'b', 'me'];

const segmentArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...LITERALS) }, { weight: 2, arbitrary: fc.constant('{p}') });
const pathArb = fc
  .tuple(fc.array(segmentArb, { minLength: 0, maxLength: 3 }), fc.boolean())
  .map(([segs, greedy]) => `/${[...segs, ...(greedy ? ['{rest+}'] : [])].join('/')}`);
const tableArb = fc
  .uniqueArray(fc.record({ method: fc.constantFrom<HttpMethod | '*'>('GET', 'POST', '*'), path: pathArb, allowed: fc.boolean() }), {
    minLength: 1,
    maxLength: 7,
    selector: (r) => `${r.method} ${parseRouteTemplate(r.path).key}`,
  })
  .map((rows) => rows.map((r) => ({ ...r, template: parseRouteTemplate(r.path), scopes: [] as string[] })));
/** Raw paths, empty segments and trailing slashes included; `x` and `é` stand for characters no route names. */
const rawPathArb = fc.array(fc.constantFrom(...LITERALS, 'x', 'é', ''), { minLength: 0, maxLength: 5 }).map((segs) => `/${segs.join('/')}`);
const methodArb = fc.constantFrom<HttpMethod>('GET', 'POST', 'PUT');

function segmentsOf(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

describe('Router (the proof model of API Gateway routing)', () => {
  it('routes canonical paths as resolveRoute does, and raw paths as their collapsed form', () => {
    fc.assert(
      fc.property(tableArb, fc.array(fc.tuple(methodArb, rawPathArb), { minLength: 10, maxLength: 30 }), (routes, requests) => {
        const router = new Router(routes, new Alphabet([...LITERALS, 'GETPOSTPUTDELETEHEADOPTIONSPATCH']));
        for (const [method, path] of requests) {
          const segments = segmentsOf(path);
          const canonical = segments.every((s) => s.length > 0);
          const verdict = router.classify(`${method}${path}`);
          expect(verdict.request).toBe(true);
          expect(verdict.canonical).toBe(canonical ? resolveRoute(routes, method, segments) : -1);
          expect(verdict.governed).toBe(
            resolveRoute(
              routes,
              method,
              segments.filter((s) => s.length > 0),
            ),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('counts every string of a method token, a slash and anything as a request, and routes only the methods API Gateway has', () => {
    const routes = [{ method: '*' as const, path: '/a', template: parseRouteTemplate('/a'), scopes: [] }];
    const router = new Router(routes, new Alphabet(['a', 'GET']));
    expect(router.classify('GET').request).toBe(false);
    expect(router.classify('GETa').request).toBe(false);
    expect(router.classify('GET/a').canonical).toBe(0);
    expect(router.classify('TRACE/a')).toEqual({ request: true, canonical: -1, governed: -1 });
  });
});

const faults: Record<string, PolicyCompiler> = {
  none: compilePolicy,
  'no deny': (r, a, o) => ({ ...compilePolicy(r, a, o), deny: [] }),
  'no empty-segment deny': (r, a, o) => {
    const c = compilePolicy(r, a, o);
    return { ...c, deny: c.deny.filter((p) => !p.includes('//') && !p.endsWith('/')) };
  },
  'first allow dropped': (r, a, o) => {
    const c = compilePolicy(r, a, o);
    return { ...c, allow: c.allow.slice(1) };
  },
};

describe('proveRouteSets against the IAM evaluator (property)', () => {
  it('reports only counterexamples that the IAM evaluator and resolveRoute confirm, and finds every one the probes find', () => {
    fc.assert(
      fc.property(
        tableArb,
        fc.constantFrom(...Object.keys(faults)),
        fc.array(fc.tuple(methodArb, rawPathArb), { minLength: 20, maxLength: 40 }),
        (routes: (ProofRoute & { allowed: boolean })[], fault, probes) => {
          const compile = faults[fault] as PolicyCompiler;
          const satisfied = routes.map((r) => r.allowed);
          const [c] = proveRouteSets(routes, [{ satisfied, token: { scopes: [], authAgeSeconds: undefined } }], { compile }).cases;
          if (c === undefined) throw new Error('no case');
          const compiled = compile(routes, (i) => satisfied[i] === true, { unrouted: Unrouted.DENY });
          const policy = renderPolicy(compiled, PREFIX);
          const iam = (request: string) => evaluate(policy, PREFIX + request.replace(' ', ''));
          const indexOf = (name: string | undefined) => routes.findIndex((r) => `${r.method} ${r.path}` === name);
          for (const x of c.counterexamples) {
            const [method, path] = x.request.split(' ') as [HttpMethod, string];
            const segments = segmentsOf(path);
            const governed = resolveRoute(
              routes,
              method,
              segments.filter((s) => s.length > 0),
            );
            if (x.property === 'complete') {
              expect(iam(x.request)).toBe('Deny');
              expect(resolveRoute(routes, method, segments)).toBe(indexOf(x.route));
              expect(satisfied[indexOf(x.route)]).toBe(true);
            } else {
              expect(iam(x.request)).toBe('Allow');
              expect(governed).toBe(x.property === 'sound' ? indexOf(x.route) : -1);
              if (x.property === 'sound') expect(satisfied[governed]).toBe(false);
            }
          }
          // What the proof calls proven, no probe may contradict: nothing is excused.
          const broken = new Set(c.counterexamples.map((x) => x.property));
          const instances = routes.flatMap((r) =>
            (r.method === '*' ? ['GET', 'POST'] : [r.method]).map(
              (m) => [m, `/${r.template.segments.map((s) => (s.kind === 'literal' ? s.value : 'x')).join('/')}`] as const,
            ),
          );
          for (const [method, path] of [...probes, ...instances]) {
            const segments = segmentsOf(path);
            const answer = iam(`${method} ${path}`);
            const canonical = segments.every((s) => s.length > 0) ? resolveRoute(routes, method, segments) : -1;
            const governed = resolveRoute(
              routes,
              method,
              segments.filter((s) => s.length > 0),
            );
            if (canonical >= 0 && satisfied[canonical] && answer === 'Deny') expect(broken).toContain('complete');
            if (governed >= 0 && !satisfied[governed] && answer === 'Allow') expect(broken).toContain('sound');
            if (governed < 0 && answer === 'Allow') expect(broken).toContain('unrouted');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('proveRouteSets against a second implementation on refa automata (property)', () => {
  it('finds a counterexample of the same length for the same routes and properties', () => {
    fc.assert(
      fc.property(tableArb, fc.constantFrom(...Object.keys(faults)), (routes, fault) => {
        const compile = faults[fault] as PolicyCompiler;
        const satisfied = routes.map((r) => r.allowed);
        const [c] = proveRouteSets(routes, [{ satisfied, token: { scopes: [], authAgeSeconds: undefined } }], {
          compile,
          maxCounterexamples: 100,
        }).cases;
        const ours = new Map(
          (c?.counterexamples ?? []).map((x) => [
            `${x.property} ${routes.findIndex((r) => `${r.method} ${r.path}` === x.route)}`,
            x.request.length - 1, // `GET /a` is the string `GET/a`
          ]),
        );
        const theirs = refaCounterexamples(
          routes,
          satisfied,
          compile(routes, (i) => satisfied[i] === true, { unrouted: Unrouted.DENY }),
        );
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 60 },
    );
  });
});
