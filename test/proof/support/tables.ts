import type { HttpMethod } from '../../../core/config';
import { parseRouteTemplate } from '../../../core/routes';
import type { TableRoute } from '../../../proof/prove';

/** A route of a table under proof: the proof reads `path`; the compiler under proof reads its own `template`. */
export function route(method: HttpMethod | '*', path: string, scopes: string[], extra: Partial<TableRoute> = {}): TableRoute {
  return { method, path, template: parseRouteTemplate(path), scopes, ...extra };
}

/** A 100-route table: 20 resources, each with a collection, an item, a sub-collection or greedy path, ANY, step-up and anyOf. */
export function hundredRoutes(): TableRoute[] {
  const routes: TableRoute[] = [];
  for (let i = 0; i < 20; i++) {
    const r = `res${i}`;
    routes.push(route('GET', `/${r}`, [`${r}:read`]));
    routes.push(route('POST', `/${r}`, [`${r}:write`], i === 7 ? { maxAuthAgeSeconds: 900 } : {}));
    routes.push(route('GET', `/${r}/{id}`, [], { anyOf: [[`${r}:read`], [`${r}:admin`]] }));
    routes.push(route(i % 2 ? 'PUT' : '*', `/${r}/{id}`, [`${r}:write`]));
    routes.push(route('GET', i % 3 ? `/${r}/{id}/items` : `/${r}/{id}/{rest+}`, [`${r}:read`, 'items:read']));
  }
  return routes;
}
