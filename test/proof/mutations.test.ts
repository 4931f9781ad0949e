import type * as Config from '../../core/config';
import type * as Policy from '../../core/policy';
import type * as Routes from '../../core/routes';
import type * as Prove from '../../proof/prove';
import type { ProofOptions, ProofReport, TableRoute } from '../../proof/prove';
import { route } from './support/tables';

/**
 * Mutations of the compiler's own modules that the proof must catch. Each is made with
 * jest's module mocks on core/*, the compiler's side only: the proof reads
 * API Gateway through its own model (proof/gateway-model.ts), so a wrong precedence or a
 * wrong `ANY` in the compiler cannot hide behind the same mistake in the checker.
 */

const ROUTES = '../../core/routes';
const CONFIG = '../../core/config';
const POLICY = '../../core/policy';

/** Prove `table` with fresh modules, the given module mocked (or none). */
function prove(table: readonly TableRoute[], options: ProofOptions, mock?: { path: string; factory: () => unknown }): ProofReport {
  let report: ProofReport | undefined;
  jest.isolateModules(() => {
    if (mock) jest.doMock(mock.path, mock.factory);
    const { proveRouteTable } = jest.requireActual<typeof Prove>('../../proof/prove');
    report = proveRouteTable(table, options);
  });
  if (mock) jest.dontMock(mock.path);
  return report as ProofReport;
}

function failures(report: ProofReport): string[] {
  return report.cases.flatMap((c) =>
    c.counterexamples.map((x) => `${x.property}: ${x.request} (${c.token.scopes.join(' ') || 'no scope'})`),
  );
}

/** A compiler whose output is rewritten (for the mutations of its result). */
function policyMock(rewrite: (compiled: Policy.CompiledPolicy) => Policy.CompiledPolicy) {
  return {
    path: POLICY,
    factory: () => {
      const actual = jest.requireActual<typeof Policy>(POLICY);
      return { ...actual, compilePolicy: (...args: Parameters<typeof actual.compilePolicy>) => rewrite(actual.compilePolicy(...args)) };
    },
  };
}

describe('mutations of the compiler the proof catches', () => {
  const USERS = [route('GET', '/users/{id}', ['users:read']), route('GET', '/users/me', ['profile:read'])];
  // Its resources are the table: with unrouted requests denied, a token with both scopes has no exact cached policy.
  const HISTORY = [route('GET', '/users/{id}', ['users:read']), route('GET', '/users/{id}/history', ['history:read'])];

  it('proves the un-mutated compiler on each table used below', () => {
    expect(failures(prove(USERS, {}))).toEqual([]);
    expect(failures(prove([route('*', '/items', ['items:read'])], {}))).toEqual([]);
    expect(failures(prove(HISTORY, { unrouted: 'unreachable' }))).toEqual([]);
  });

  it('catches reversed route precedence (compareSpecificity in core/routes.ts)', () => {
    const mock = {
      path: ROUTES,
      factory: () => {
        const actual = jest.requireActual<typeof Routes>(ROUTES);
        return { ...actual, compareSpecificity: (a: Routes.RouteTemplate, b: Routes.RouteTemplate) => -actual.compareSpecificity(a, b) };
      },
    };
    const report = prove(USERS, {}, mock);
    expect(report.failed).toBe(true);
    // users:read is given GET /users/me, which profile:read governs; profile:read is refused its own route.
    expect(failures(report)).toEqual(
      expect.arrayContaining(['sound: GET /users/me (users:read)', 'complete: GET /users/me (profile:read)']),
    );
  });

  it('catches HEAD dropped from the methods ANY stands for (HTTP_METHODS in core/config, as the compiler reads it)', () => {
    const mock = {
      path: CONFIG,
      factory: () => {
        const actual = jest.requireActual<typeof Config>(CONFIG);
        return { ...actual, HTTP_METHODS: actual.HTTP_METHODS.filter((m) => m !== 'HEAD') };
      },
    };
    const report = prove([route('*', '/items', ['items:read'])], {}, mock);
    expect(failures(report)).toEqual(['complete: HEAD /items (items:read)']);
  });

  it('catches a spill Deny removed (the Deny that takes deeper paths back from a {name} Allow)', () => {
    const mock = policyMock((c) => ({ ...c, deny: c.deny.filter((d) => !(d.endsWith('/*') && c.allow.includes(d.slice(0, -2)))) }));
    const report = prove(HISTORY, { unrouted: 'unreachable' }, mock);
    expect(failures(report)).toContain('sound: GET /users/x/history (users:read)');
  });

  it('catches an Allow widened (a literal segment replaced by *)', () => {
    const widen = (glob: string) => glob.replace(/\/[^/*?]+$/, '/*');
    const mock = policyMock((c) => ({ ...c, allow: c.allow.map(widen) }));
    const report = prove(USERS, {}, mock);
    expect(failures(report)).toContain('sound: GET /users/x (profile:read)');
  });
});
