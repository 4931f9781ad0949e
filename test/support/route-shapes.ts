import fc from 'fast-check';
import type { HttpMethod } from '../../core/config';
import { parseRouteTemplate } from '../../core/routes';

/**
 * Random route tables of the shapes real APIs have, for the property tests of the policy
 * compiler, the authorizer end to end and `scopegate diff`: literals beside parameters,
 * greedy parameters at several depths, a catch-all, `ANY` beside a method.
 */

/** The literal segments the generated paths are made of (a test may pass its own). */
export const ROUTE_LITERALS: readonly string[] = ['users', 'me', 'items'];

/** A route path: up to three segments, literals or `{id}`, perhaps ending in `{proxy+}`; now and then the bare `/{proxy+}`. */
export function routePathArb(literals: readonly string[] = ROUTE_LITERALS): fc.Arbitrary<string> {
  const segmentArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...literals) }, { weight: 2, arbitrary: fc.constant('{id}') });
  return fc
    .oneof(
      { weight: 6, arbitrary: fc.tuple(fc.array(segmentArb, { minLength: 0, maxLength: 3 }), fc.boolean()) },
      { weight: 1, arbitrary: fc.constant<[string[], boolean]>([[], true]) },
    )
    .map(([segs, greedy]) => `/${[...segs, ...(greedy ? ['{proxy+}'] : [])].join('/')}`);
}

/** A route's method: GET, POST or `*` (ANY). */
export const routeMethodArb: fc.Arbitrary<HttpMethod | '*'> = fc.constantFrom<HttpMethod | '*'>('GET', 'POST', '*');

/** What makes two routes the same route: the method and the path template (`{id}` and `{other}` are one). */
export function routeKey(route: { readonly method?: unknown; readonly path?: unknown }): string {
  return `${route.method} ${parseRouteTemplate(route.path as string).key}`;
}

/** A route table of `rowArb`'s rows, no two the same route. */
export function routeTableArb<T extends { readonly method?: unknown; readonly path?: unknown }>(
  rowArb: fc.Arbitrary<T>,
  size: { minLength: number; maxLength: number },
): fc.Arbitrary<T[]> {
  return fc.uniqueArray(rowArb, { ...size, selector: routeKey });
}
