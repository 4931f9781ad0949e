import fc from 'fast-check';
import { readRouteConfig } from '../../cli/verify';
import { type AccessChange, diffRouteTables } from '../../proof/diff';
import { gatewayRoute } from '../support/iam';
import { ROUTE_LITERALS, routeKey, routeMethodArb, routePathArb, routeTableArb } from '../support/route-shapes';
import { AuthorizerOracle, confirmChange, type OracleTable } from './support/diff-oracle';

/**
 * `scopegate diff` against brute force, on random pairs of tables of the shapes real APIs have
 * (literals beside parameters, greedy paths, ANY, anyOf, step-up, report-only): every change
 * it reports is confirmed by the real authorizers, and asking them every scope subset of the
 * tables' scopes (at every authentication age around a step-up limit) on a set of probe
 * requests finds no change it did not report.
 */

const SCOPES = ['s:a', 's:b', 's:c'];

const scopesArb = fc.uniqueArray(fc.constantFrom(...SCOPES), { maxLength: 2 });
const rowArb = fc
  .record({
    method: routeMethodArb,
    path: routePathArb(),
    scopes: scopesArb,
    anyOf: fc.option(fc.array(scopesArb, { minLength: 2, maxLength: 2 }), { freq: 4 }),
    maxAuthAgeSeconds: fc.constantFrom(undefined, undefined, undefined, 300, 900),
    reportOnly: fc.constantFrom(false, false, false, false, false, true),
  })
  .map(({ anyOf, reportOnly, maxAuthAgeSeconds, ...row }) => {
    const out: Record<string, unknown> = anyOf === null ? { ...row } : { method: row.method, path: row.path, anyOf };
    if (maxAuthAgeSeconds !== undefined) out.maxAuthAgeSeconds = maxAuthAgeSeconds;
    if (reportOnly) out.enforcement = 'report-only';
    return out;
  });
const rowsArb = routeTableArb(rowArb, { minLength: 0, maxLength: 5 });

/** A head table made from the base the way pull requests make them: rows kept, dropped, changed, added, reordered. */
const pairArb = rowsArb.chain((base) =>
  fc
    .tuple(
      fc.array(fc.constantFrom('keep', 'keep', 'drop', 'change'), { minLength: base.length, maxLength: base.length }),
      fc.array(rowArb, { maxLength: base.length }),
      rowsArb,
      fc.array(fc.nat(), { minLength: base.length, maxLength: base.length }),
      fc.boolean(),
    )
    .map(([fates, changed, added, order, independent]) => {
      if (independent) return { base, head: added };
      const head: Record<string, unknown>[] = [];
      base.forEach((row, i) => {
        if (fates[i] === 'keep') head.push(row);
        else if (fates[i] === 'change') head.push({ ...(changed[i] as Record<string, unknown>), method: row.method, path: row.path });
      });
      const seen = new Set(head.map(routeKey));
      for (const row of added) if (!seen.has(routeKey(row)) && seen.add(routeKey(row))) head.push(row);
      const sorted = head.map((row, i) => ({ row, at: order[i] ?? i })).sort((a, b) => a.at - b.at);
      return { base, head: sorted.map((x) => x.row) };
    }),
);
const settingsArb = fc.record({
  unrouted: fc.constantFrom('deny' as const, 'unreachable' as const),
  enforcement: fc.constantFrom('enforce' as const, 'enforce' as const, 'enforce' as const, 'report-only' as const),
  policyCacheTtlSeconds: fc.constantFrom(0, 0, 120),
});

/** A table's settings, valid for its rows: report-only needs an uncached authorizer. */
function withSettings(routes: Record<string, unknown>[], settings: Omit<OracleTable, 'routes'>): OracleTable {
  const reportOnly = settings.enforcement === 'report-only' || routes.some((r) => r.enforcement === 'report-only');
  return { ...settings, routes, policyCacheTtlSeconds: reportOnly ? 0 : settings.policyCacheTtlSeconds };
}

/** Requests worth asking: each route instantiated, one deeper, with literal siblings for its parameters, a trailing slash, other methods. */
function probes(rows: Record<string, unknown>[]): string[] {
  const out = new Set<string>(['GET /', 'GET /zz', 'POST /items', 'GET //']);
  for (const row of rows) {
    const parts = (row.path as string)
      .split('/')
      .slice(1)
      .filter((s) => s.length > 0);
    const variants: string[][] = [parts.map((s) => (s.startsWith('{') ? 'x' : s))];
    parts.forEach((s, i) => {
      if (s.startsWith('{'))
        for (const lit of ROUTE_LITERALS) variants.push(parts.map((t, j) => (j === i ? lit : t.startsWith('{') ? 'x' : t)));
    });
    for (const segments of variants) {
      for (const m of ['GET', 'POST', 'DELETE']) {
        out.add(`${m} /${segments.join('/')}`);
        out.add(`${m} /${[...segments, 'y'].join('/')}`);
      }
    }
    out.add(`GET /${(variants[0] as string[]).join('/')}/`);
  }
  return [...out];
}

/**
 * What governs a request in a table (the tests' own routing): its route; else, for a path with
 * an empty segment that reaches the authorizer (API Gateway routes it, or sends it anyway:
 * `unrouted: deny`, or its routing is undocumented), `(empty path segment)`; else `(no route)`.
 */
function governing(table: OracleTable, request: string): { name: string | null; route: string } {
  const [method, path] = request.split(' ') as [string, string];
  const segments = path === '/' ? [] : path.slice(1).split('/');
  const i = gatewayRoute(table.routes as { method: string; path: string }[], method, segments);
  if (segments.includes('')) {
    const reaches = i !== -1 || table.unrouted !== 'unreachable';
    return { name: null, route: reaches ? '(empty path segment)' : '(no route)' };
  }
  if (i === 'any' || i === -1) return { name: null, route: '(no route)' };
  const row = table.routes[i] as Record<string, unknown>;
  const name = `${row.method === 'ANY' ? '*' : row.method} ${row.path}`;
  return { name, route: name };
}

function subsets<T>(items: readonly T[]): T[][] {
  return items.reduce<T[][]>((acc, item) => acc.flatMap((s) => [s, [...s, item]]), [[]]);
}

describe('scopegate diff against the real authorizer, over all scope subsets (property)', () => {
  it('reports every change the authorizers show, each confirmed, each with a smallest scope set', async () => {
    let differences = 0;
    let reported = 0;
    await fc.assert(
      fc.asyncProperty(pairArb, settingsArb, settingsArb, async ({ base: baseRows, head: headRows }, bs, hs) => {
        const base = withSettings(baseRows, bs);
        const head = withSettings(headRows, hs);
        const diff = diffRouteTables(readRouteConfig({ ...base }), readRouteConfig({ ...head }));
        const b = new AuthorizerOracle(base);
        const h = new AuthorizerOracle(head);
        for (const change of diff.newAccess) await confirmChange(change, true, b, h);
        for (const change of diff.lostAccess) await confirmChange(change, false, b, h);
        reported += diff.newAccess.length + diff.lostAccess.length;

        const scopes = [...new Set([...baseRows, ...headRows].flatMap((r) => [r.scopes ?? [], ...((r.anyOf as string[][]) ?? [])].flat()))];
        const limits = [base, head].flatMap((t) =>
          t.routes.flatMap((r) => (typeof r.maxAuthAgeSeconds === 'number' ? [r.maxAuthAgeSeconds - (t.policyCacheTtlSeconds ?? 0)] : [])),
        );
        const ages = [undefined, ...new Set(limits.flatMap((t) => [t, t + 1]).filter((a) => a >= 0))];
        for (const request of probes([...baseRows, ...headRows])) {
          for (const held of subsets(scopes as string[])) {
            for (const age of ages) {
              const was = await b.effect(request, held, age);
              const is = await h.effect(request, held, age);
              if (was === is) continue;
              differences++;
              const gained = is === 'allow';
              const [from, to] = [governing(base, request), governing(head, request)];
              const names = { baseRoute: from.name, headRoute: to.name, route: gained ? to.route : from.route };
              const list: AccessChange[] = gained ? diff.newAccess : diff.lostAccess;
              const match = list.find((c) => c.baseRoute === names.baseRoute && c.headRoute === names.headRoute && c.route === names.route);
              const token = `${held.join(' ') || '(no scope)'}${age === undefined ? '' : `, authenticated ${age} s ago`}`;
              if (match === undefined) {
                throw new Error(
                  `${request} ${gained ? 'newly allowed' : 'newly denied'} for ${token} (${JSON.stringify(names)}): not reported in ${JSON.stringify(diff)}`,
                );
              }
              if (match.scopes.length > held.length)
                throw new Error(`${JSON.stringify(match)} is not a smallest scope set: ${token} shows it too`);
            }
          }
        }
      }),
      { numRuns: 40 },
    );
    // The generated pairs do differ, and the diff has things to report.
    expect(differences).toBeGreaterThan(100);
    expect(reported).toBeGreaterThan(20);
  }, 180_000);

  it('fails a reported change that the authorizers do not show (the confirmation can fail)', async () => {
    const base: OracleTable = { routes: [{ method: 'GET', path: '/items/{id}', scopes: ['s:a'] }] };
    const head: OracleTable = { routes: [{ method: 'GET', path: '/items/{id}', anyOf: [['s:a'], ['s:b']] }] };
    const diff = diffRouteTables(readRouteConfig({ ...base }), readRouteConfig({ ...head }));
    const b = new AuthorizerOracle(base);
    const h = new AuthorizerOracle(head);
    const change = diff.newAccess[0] as AccessChange;
    await confirmChange(change, true, b, h);
    await expect(confirmChange({ ...change, scopes: ['s:a'] }, true, b, h)).rejects.toThrow('base authorizer allow, head authorizer allow');
    await expect(confirmChange({ ...change, request: 'GET /items' }, true, b, h)).rejects.toThrow(
      'base authorizer deny, head authorizer deny',
    );
    await expect(confirmChange(change, false, b, h)).rejects.toThrow('not confirmed');
  });
});
