import { readRouteConfig } from '../../cli/verify';
import { type AccessDiff, type DiffTable, diffRouteTables } from '../../proof/diff';
import { AuthorizerOracle, confirmChange, type OracleTable } from './support/diff-oracle';

/**
 * `diffRouteTables` on the pairs of tables a pull request makes, each change it reports
 * confirmed by the real authorizer configured with each table (real signed tokens holding
 * exactly the reported scopes): the witness request is allowed by one and denied by the other.
 */

/** The table as the CLI reads it: through the configuration's own validation. */
function diffTable(table: OracleTable): DiffTable {
  return readRouteConfig({ ...table });
}

/** Diff two tables and confirm every reported change with the real authorizers. */
async function confirmedDiff(base: OracleTable, head: OracleTable): Promise<AccessDiff> {
  const diff = diffRouteTables(diffTable(base), diffTable(head));
  const b = new AuthorizerOracle(base);
  const h = new AuthorizerOracle(head);
  for (const change of diff.newAccess) await confirmChange(change, true, b, h);
  for (const change of diff.lostAccess) await confirmChange(change, false, b, h);
  return diff;
}

/** The contract's fields of each change. */
function contract(changes: AccessDiff['newAccess']) {
  return changes.map(({ scopes, request, route }) => ({ scopes, request, route }));
}

const ORDERS = [
  { method: 'GET', path: '/orders/{id}', scopes: ['orders:read'] },
  { method: 'POST', path: '/orders', scopes: ['orders:write'] },
  { method: 'PUT', path: '/config/{name}/secrets', scopes: ['config:update', 'config:secrets'] },
  { method: 'GET', path: '/files/{path+}', scopes: ['files:read'] },
];

describe('diffRouteTables, confirmed by the real authorizer', () => {
  it('reports an added anyOf alternative as new access for the alternative alone', async () => {
    const head = ORDERS.map((r) =>
      r.path === '/orders' ? { method: 'POST', path: '/orders', anyOf: [['orders:write'], ['orders:admin']] } : r,
    );
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: head });
    expect(contract(diff.newAccess)).toEqual([{ scopes: ['orders:admin'], request: 'POST /orders', route: 'POST /orders' }]);
    expect(diff.newAccess[0]).toMatchObject({ baseRoute: 'POST /orders', headRoute: 'POST /orders', before: 'orders:write' });
    expect(diff.lostAccess).toEqual([]);
  });

  it('reports a route any valid token may call as new access for no scope at all', async () => {
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: [...ORDERS, { method: 'GET', path: '/health', scopes: [] }] });
    expect(contract(diff.newAccess)).toEqual([{ scopes: [], request: 'GET /health', route: 'GET /health' }]);
    expect(diff.newAccess[0]).toMatchObject({ baseRoute: null, before: 'denied (no route)', after: 'any valid token' });
    expect(diff.lostAccess).toEqual([]);
  });

  it('reports dropping one of two required scopes as new access for the one kept, on a concrete request', async () => {
    const head = ORDERS.map((r) => (r.path === '/config/{name}/secrets' ? { ...r, scopes: ['config:update'] } : r));
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: head });
    expect(contract(diff.newAccess)).toEqual([
      { scopes: ['config:update'], request: 'PUT /config/x/secrets', route: 'PUT /config/{name}/secrets' },
    ]);
    expect(diff.lostAccess).toEqual([]);
  });

  it('reports a literal route beside a parameter as a gain for its scope and a loss for the parameter route’s', async () => {
    const head = [...ORDERS, { method: 'GET', path: '/orders/export', scopes: ['orders:export'] }];
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: head });
    expect(contract(diff.newAccess)).toEqual([{ scopes: ['orders:export'], request: 'GET /orders/export', route: 'GET /orders/export' }]);
    expect(contract(diff.lostAccess)).toEqual([{ scopes: ['orders:read'], request: 'GET /orders/export', route: 'GET /orders/{id}' }]);
    expect(diff.lostAccess[0]).toMatchObject({ baseRoute: 'GET /orders/{id}', headRoute: 'GET /orders/export' });
  });

  it('reports a deeper greedy route as taking requests away from the shallower one', async () => {
    const head = [...ORDERS, { method: 'GET', path: '/files/private/{path+}', scopes: ['files:admin'] }];
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: head });
    expect(contract(diff.newAccess)).toEqual([
      { scopes: ['files:admin'], request: 'GET /files/private/x', route: 'GET /files/private/{path+}' },
    ]);
    expect(contract(diff.lostAccess)).toEqual([{ scopes: ['files:read'], request: 'GET /files/private/x', route: 'GET /files/{path+}' }]);
  });

  it('reports a route switched to report-only as new access for any valid token', async () => {
    const head = ORDERS.map((r) => (r.path === '/orders/{id}' ? { ...r, enforcement: 'report-only' } : r));
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: head });
    expect(contract(diff.newAccess)).toEqual([{ scopes: [], request: 'GET /orders/x', route: 'GET /orders/{id}' }]);
    expect(diff.newAccess[0]?.after).toBe('any valid token (report-only)');
    expect(diff.lostAccess).toEqual([]);
  });

  it('reports only losses when scopes are only tightened, a step-up added and a greedy path narrowed', async () => {
    const head = ORDERS.map((r) =>
      r.path === '/orders/{id}'
        ? { ...r, scopes: ['orders:read', 'orders:pii'] }
        : r.path === '/orders'
          ? { ...r, maxAuthAgeSeconds: 600 }
          : r.path === '/files/{path+}'
            ? { ...r, path: '/files/{dir}/{path+}' }
            : r,
    );
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: head });
    expect(diff.newAccess).toEqual([]);
    expect(contract(diff.lostAccess)).toEqual([
      { scopes: ['orders:write'], request: 'POST /orders', route: 'POST /orders' },
      { scopes: ['files:read'], request: 'GET /files/x', route: 'GET /files/{path+}' },
      { scopes: ['orders:read'], request: 'GET /orders/x', route: 'GET /orders/{id}' },
    ]);
    // The step-up route is lost to a token without auth_time: no age is reported.
    expect(diff.lostAccess[0]?.authAgeSeconds).toBeUndefined();
  });

  it('reports no change when the table is only reordered, its parameters renamed and ANY spelled out', async () => {
    const base = [...ORDERS, { method: '*', path: '/admin/{proxy+}', scopes: ['admin'] }];
    const head = [
      { method: 'ANY', path: '/admin/{rest+}', scopes: ['admin'] },
      ...[...ORDERS].reverse().map((r) => ({ ...r, path: r.path.replace('{id}', '{orderId}') })),
    ];
    const diff = await confirmedDiff({ routes: base }, { routes: head });
    expect(diff.newAccess).toEqual([]);
    expect(diff.lostAccess).toEqual([]);
    expect(diff.pairs).toBeGreaterThan(5);
  });

  it('reports a GET widened to ANY once, for the methods it gains', async () => {
    const head = ORDERS.map((r) => (r.path === '/files/{path+}' ? { ...r, method: '*' } : r));
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: head });
    expect(contract(diff.newAccess)).toEqual([{ scopes: ['files:read'], request: 'POST /files/x', route: '* /files/{path+}' }]);
  });

  it('reports a longer step-up window as new access at the age it newly admits, and a cache TTL as lost access', async () => {
    const reboot = (max: number) => [{ method: 'POST', path: '/system/reboot', scopes: ['system:reboot'], maxAuthAgeSeconds: max }];
    const longer = await confirmedDiff({ routes: reboot(300) }, { routes: reboot(900) });
    expect(longer.newAccess).toEqual([
      expect.objectContaining({ scopes: ['system:reboot'], request: 'POST /system/reboot', authAgeSeconds: 900 }),
    ]);
    expect(longer.lostAccess).toEqual([]);
    expect(longer.authAgesSeconds).toEqual([300, 900]);
    // A cached Allow must outlive the TTL: 300 s of cache leave 600 s of authentication age.
    const cached = await confirmedDiff({ routes: reboot(900) }, { routes: reboot(900), policyCacheTtlSeconds: 300 });
    expect(cached.newAccess).toEqual([]);
    expect(cached.lostAccess).toEqual([expect.objectContaining({ scopes: ['system:reboot'], authAgeSeconds: 900 })]);
  });

  it('gives the smallest requirement set that gains, and every other one', async () => {
    const base = [{ method: 'GET', path: '/reports', scopes: ['reports:read'] }];
    const head = [{ method: 'GET', path: '/reports', anyOf: [['reports:read'], ['audit:read', 'tenant:all'], ['Reports.Read.All']] }];
    const diff = await confirmedDiff({ routes: base }, { routes: head });
    expect(diff.newAccess).toHaveLength(1);
    expect(diff.newAccess[0]?.scopes).toEqual(['Reports.Read.All']);
    expect(diff.newAccess[0]?.scopeSets).toEqual([['Reports.Read.All'], ['audit:read', 'tenant:all']]);
  });

  it('reports a top-level report-only as new access for every request that reaches the authorizer', async () => {
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: ORDERS, enforcement: 'report-only' });
    expect(diff.lostAccess).toEqual([]);
    const routes = diff.newAccess.map((c) => c.route);
    expect(routes).toEqual(expect.arrayContaining(['GET /orders/{id}', 'POST /orders', '(no route)', '(empty path segment)']));
    expect(diff.newAccess.every((c) => c.scopes.length === 0)).toBe(true);
    // Under "unreachable", API Gateway answers unrouted requests itself: the authorizer lets nothing more through there.
    const unreachable = await confirmedDiff(
      { routes: ORDERS, unrouted: 'unreachable' },
      { routes: ORDERS, unrouted: 'unreachable', enforcement: 'report-only' },
    );
    expect(unreachable.newAccess.map((c) => c.route)).not.toContain('(no route)');
  });

  it('reports nothing for a change of unrouted mode alone, where unrouted requests are denied either way', async () => {
    const diff = await confirmedDiff({ routes: ORDERS }, { routes: ORDERS, unrouted: 'unreachable' });
    expect(diff.newAccess).toEqual([]);
    expect(diff.lostAccess).toEqual([]);
  });

  it('reads HTTP API’s $default route as governing every request no other route matches', async () => {
    const base = [{ method: 'GET', path: '/orders/{id}', scopes: ['orders:read'] }];
    const head = [...base, { method: '*', path: '$default', scopes: ['legacy:proxy'] }];
    const diff = await confirmedDiff({ routes: base }, { routes: head });
    expect(contract(diff.newAccess)).toEqual([{ scopes: ['legacy:proxy'], request: 'GET /', route: '* $default' }]);
  });

  it('compares a hundred-route table with a changed copy in well under a second', () => {
    const routes = Array.from({ length: 100 }, (_, i) => ({
      method: i % 3 === 0 ? '*' : 'GET',
      path: i % 2 ? `/res${i % 20}/{id}/sub${i}` : `/res${i % 20}/lit${i}/{rest+}`,
      scopes: [`res${i % 20}:read`, ...(i % 5 === 0 ? ['extra:scope'] : [])],
    }));
    const head = routes.map((r, i) => (i === 42 ? { ...r, scopes: ['res2:admin'] } : r));
    const started = performance.now();
    const diff = diffRouteTables(diffTable({ routes }), diffTable({ routes: head }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(contract(diff.newAccess)).toEqual([{ scopes: ['res2:admin'], request: 'GET /res2/lit42/x', route: '* /res2/lit42/{rest+}' }]);
    expect(contract(diff.lostAccess)).toEqual([{ scopes: ['res2:read'], request: 'GET /res2/lit42/x', route: '* /res2/lit42/{rest+}' }]);
  });
});
