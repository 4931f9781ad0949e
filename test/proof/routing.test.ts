import fc from 'fast-check';
import { type HttpMethod, Unrouted } from '../../core/config';
import { compilePolicy, renderPolicy } from '../../core/policy';
import { resolveRoute, splitPath } from '../../core/routes';
import { Alphabet } from '../../proof/automaton';
import { ANY_METHODS, gatewayRouteOf, readResourcePath, requestShape } from '../../proof/gateway-model';
import { type PolicyCompiler, proveRouteSets, type TableRoute } from '../../proof/prove';
import { Router } from '../../proof/routing';
import { evaluate } from '../support/iam';
import { refaCounterexamples } from './support/refa-oracle';
import { route } from './support/tables';

const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';
const LITERALS = ['a', 'b', 'me'];

/** Tables of the shapes real APIs have: literal beside parameter, greedy paths at several depths, the root, ANY beside a method. */
const segmentArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...LITERALS) }, { weight: 2, arbitrary: fc.constant('{p}') });
const pathArb = fc
  .tuple(fc.array(segmentArb, { minLength: 0, maxLength: 3 }), fc.boolean())
  .map(([segs, greedy]) => `/${[...segs, ...(greedy ? ['{rest+}'] : [])].join('/')}`);
const tableArb = fc
  .uniqueArray(fc.record({ method: fc.constantFrom<HttpMethod | '*'>('GET', 'HEAD', 'POST', '*'), path: pathArb, allowed: fc.boolean() }), {
    minLength: 1,
    maxLength: 7,
    selector: (r) => `${r.method} ${r.path.replace(/\{[^}]*?(\+?)\}/g, '{$1}')}`,
  })
  .map((rows) => rows.map((r) => ({ ...route(r.method, r.path, []), allowed: r.allowed })));
/** Raw paths, empty segments and trailing slashes included; `x` and `é` stand for characters no route names. */
const rawPathArb = fc.array(fc.constantFrom(...LITERALS, 'x', 'é', ''), { minLength: 0, maxLength: 5 }).map((segs) => `/${segs.join('/')}`);
/** The methods API Gateway sends (what `ANY` stands for), and one it does not route. */
const methodArb = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'TRACE');

describe('the proof model of API Gateway routing, from its documentation', () => {
  const table = (...rows: [string, string][]) => rows.map(([method, path]) => ({ method, path }));

  it('reads {name} as one segment and {name+} as one or more, the greedy one last only', () => {
    expect(readResourcePath('/pets/{petId}').parts).toEqual([{ kind: 'fixed', text: 'pets' }, { kind: 'variable' }]);
    expect(readResourcePath('/parent/{proxy+}').rank).toBe('02');
    expect(readResourcePath('/').parts).toEqual([]);
    expect(() => readResourcePath('/{proxy+}/child')).toThrow('no child resource');
    expect(() => readResourcePath('/a//b')).toThrow('no empty part');
    expect(() => readResourcePath('a')).toThrow('starts at the root');
    const routes = table(['GET', '/parent/{proxy+}']);
    expect(gatewayRouteOf(routes, 'GET', '/parent')).toBe(-1);
    expect(gatewayRouteOf(routes, 'GET', '/parent/a/b/c')).toBe(0);
  });

  it('gives a specific resource precedence over a generic one at the same level (the documentation’s proxy example)', () => {
    const routes = table(['*', '/{proxy+}'], ['*', '/parent/{proxy+}'], ['*', '/parent/{child}/{proxy+}'], ['GET', '/parent/child']);
    expect(gatewayRouteOf(routes, 'GET', '/pets/1')).toBe(0);
    expect(gatewayRouteOf(routes, 'GET', '/parent/x')).toBe(1);
    expect(gatewayRouteOf(routes, 'GET', '/parent/x/y')).toBe(2);
    expect(gatewayRouteOf(routes, 'GET', '/parent/child')).toBe(3);
    expect(gatewayRouteOf(routes, 'POST', '/parent/child')).toBe(1);
  });

  it('lets ANY stand for DELETE, GET, HEAD, OPTIONS, PATCH, POST and PUT, and a method defined on the resource beat it', () => {
    expect(ANY_METHODS).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
    const routes = table(['*', '/items'], ['GET', '/items'], ['GET', '/{proxy+}']);
    expect(gatewayRouteOf(routes, 'HEAD', '/items')).toBe(0);
    expect(gatewayRouteOf(routes, 'GET', '/items')).toBe(1);
    expect(gatewayRouteOf(routes, 'TRACE', '/items')).toBe(-1);
    // ANY on the specific resource beats GET on the generic one.
    expect(gatewayRouteOf(table(['GET', '/{proxy+}'], ['*', '/items']), 'GET', '/items')).toBe(1);
  });

  it('routes /x/ as /x, and assumes nothing of other empty segments', () => {
    expect(requestShape('/users/me/')).toEqual({ kind: 'trailing-slash', parts: ['users', 'me'] });
    expect(requestShape('/')).toEqual({ kind: 'canonical', parts: [] });
    for (const path of ['//', '//users', '/users//me', '/users/me//']) expect(requestShape(path)).toEqual({ kind: 'undocumented' });
    const routes = table(['GET', '/users/me']);
    expect(gatewayRouteOf(routes, 'GET', '/users/me/')).toBe(0);
    expect(gatewayRouteOf(routes, 'GET', '/users//me')).toBe('undocumented');
  });
});

describe('the proof model against the authorizer (differential)', () => {
  it('routes every request as resolveRoute does, on random tables of real shapes', () => {
    fc.assert(
      fc.property(tableArb, fc.array(fc.tuple(methodArb, rawPathArb), { minLength: 10, maxLength: 30 }), (routes, requests) => {
        for (const [method, path] of requests) {
          // API Gateway never sends the authorizer a method `ANY` does not stand for: the two may differ there only.
          if (!ANY_METHODS.includes(method)) continue;
          const shape = requestShape(path);
          const ours = gatewayRouteOf(routes, method, path);
          if (shape.kind === 'undocumented') expect(ours).toBe('undocumented');
          else expect(ours).toBe(resolveRoute(routes, method as HttpMethod, shape.parts));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with resolveRoute on the issue’s shapes', () => {
    const routes = [
      route('GET', '/users/{id}', []),
      route('GET', '/users/me', []),
      route('*', '/{proxy+}', []),
      route('GET', '/items', []),
      route('GET', '/items/{id}', []),
      route('GET', '/files/{key}', []),
      route('GET', '/files/{key+}', []),
    ];
    for (const path of ['/users/me', '/users/7', '/items', '/items/1', '/items/1/2', '/files/a', '/files/a/b', '/other', '/']) {
      for (const method of ANY_METHODS)
        expect([method, path, gatewayRouteOf(routes, method, path)]).toEqual([
          method,
          path,
          resolveRoute(routes, method as HttpMethod, splitPath(path)),
        ]);
    }
  });
});

describe('Router (the model as an automaton)', () => {
  it('classifies every request string as the model routes it', () => {
    fc.assert(
      fc.property(tableArb, fc.array(fc.tuple(methodArb, rawPathArb), { minLength: 10, maxLength: 30 }), (routes, requests) => {
        const router = new Router(routes, new Alphabet([...LITERALS, ...ANY_METHODS, 'TRACE']));
        for (const [method, path] of requests) {
          const verdict = router.classify(`${method}${path}`);
          const ours = gatewayRouteOf(routes, method, path);
          expect(verdict.request).toBe(true);
          expect(verdict.documented).toBe(ours !== 'undocumented');
          expect(verdict.governed).toBe(ours === 'undocumented' ? -1 : ours);
          expect(verdict.canonical).toBe(requestShape(path).kind === 'canonical' ? ours : -1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('counts every string of a method token, a slash and anything as a request, and routes only the methods ANY stands for', () => {
    const router = new Router([{ method: '*', path: '/a' }], new Alphabet(['a', 'GET']));
    expect(router.classify('GET').request).toBe(false);
    expect(router.classify('GETa').request).toBe(false);
    expect(router.classify('GET/a').canonical).toBe(0);
    expect(router.classify('GET/a/')).toEqual({ request: true, documented: true, canonical: -1, governed: 0 });
    expect(router.classify('TRACE/a')).toEqual({ request: true, documented: true, canonical: -1, governed: -1 });
    expect(router.classify('GET//a')).toEqual({ request: true, documented: false, canonical: -1, governed: -1 });
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

type Row = TableRoute & { allowed: boolean };

describe('proveRouteSets against the IAM evaluator (property)', () => {
  it('reports only counterexamples that the IAM evaluator and the model confirm, and finds every one the probes find', () => {
    fc.assert(
      fc.property(
        tableArb,
        fc.constantFrom(...Object.keys(faults)),
        fc.array(fc.tuple(methodArb, rawPathArb), { minLength: 20, maxLength: 40 }),
        (routes: Row[], fault, probes) => {
          const compile = faults[fault] as PolicyCompiler;
          const satisfied = routes.map((r) => r.allowed);
          const [c] = proveRouteSets(routes, [{ satisfied, token: { scopes: [], authAgeSeconds: undefined } }], { compile }).cases;
          if (c === undefined) throw new Error('no case');
          const compiled = compile(routes, (i) => satisfied[i] === true, { unrouted: Unrouted.DENY });
          const policy = renderPolicy(compiled, PREFIX);
          const iam = (method: string, path: string) => evaluate(policy, `${PREFIX}${method}${path}`);
          const indexOf = (name: string | undefined) => routes.findIndex((r) => `${r.method} ${r.path}` === name);
          for (const x of c.counterexamples) {
            const [method, path] = x.request.split(' ') as [string, string];
            const governed = gatewayRouteOf(routes, method, path);
            if (x.property === 'complete') {
              expect(iam(method, path)).toBe('Deny');
              expect(requestShape(path).kind).toBe('canonical');
              expect(governed).toBe(indexOf(x.route));
              expect(satisfied[indexOf(x.route)]).toBe(true);
            } else {
              expect(iam(method, path)).toBe('Allow');
              if (governed === 'undocumented') {
                expect(x.property).toBe(satisfied.includes(false) ? 'sound' : 'unrouted');
              } else {
                expect(governed).toBe(x.property === 'sound' ? indexOf(x.route) : -1);
                if (x.property === 'sound') expect(satisfied[governed]).toBe(false);
              }
            }
          }
          // What the proof calls proven, no probe may contradict: nothing is excused.
          const broken = new Set(c.counterexamples.map((x) => x.property));
          const instances = routes.flatMap((r) =>
            (r.method === '*' ? ANY_METHODS : [r.method]).map(
              (m) =>
                [
                  m,
                  `/${readResourcePath(r.path)
                    .parts.map((p) => (p.kind === 'fixed' ? p.text : 'x'))
                    .join('/')}`,
                ] as const,
            ),
          );
          for (const [method, path] of [...probes, ...instances]) {
            const answer = iam(method, path);
            const governed = gatewayRouteOf(routes, method, path);
            if (governed === 'undocumented') {
              if (answer === 'Allow') expect(broken).toContain(satisfied.includes(false) ? 'sound' : 'unrouted');
              continue;
            }
            const canonical = requestShape(path).kind === 'canonical' ? governed : -1;
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
        const ours = new Map<string, number>();
        for (const x of c?.counterexamples ?? []) {
          const key = `${x.property} ${routes.findIndex((r) => `${r.method} ${r.path}` === x.route)}`;
          const length = x.request.length - 1; // `GET /a` is the string `GET/a`
          ours.set(key, Math.min(length, ours.get(key) ?? length));
        }
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
