import {
  compareSpecificity,
  MAX_TEMPLATE_SEGMENTS,
  matchesTemplate,
  parseRouteTemplate,
  type RouteLike,
  resolveRoute,
  splitPath,
} from '../../core/routes';

/** Routes as the authorizer holds them: the method (`*` for ANY) and the parsed template. */
function table(...rows: [method: string, path: string][]): RouteLike[] {
  return rows.map(([method, path]) => ({ method, template: parseRouteTemplate(path) }));
}

/** The path of the route that governs `METHOD /path`, or undefined when none does. */
function governing(routes: RouteLike[], request: string): string | undefined {
  const [method, path] = request.split(' ') as [string, string];
  const i = resolveRoute(routes, method, splitPath(path));
  if (i < 0) return undefined;
  const route = routes[i] as RouteLike;
  return `${route.method} ${route.template.key}`;
}

describe('parseRouteTemplate', () => {
  it('reads literals, {name} and a last {name+}, and erases parameter names from the key', () => {
    expect(parseRouteTemplate('/users/{id}/files/{path+}')).toEqual({
      segments: [
        { kind: 'literal', value: 'users' },
        { kind: 'param', name: 'id' },
        { kind: 'literal', value: 'files' },
        { kind: 'greedy', name: 'path' },
      ],
      key: '/users/{}/files/{+}',
    });
    expect(parseRouteTemplate('/users/{id}').key).toBe(parseRouteTemplate('/users/{userId}').key);
  });

  it('reads the root as no segment', () => {
    expect(parseRouteTemplate('/')).toEqual({ segments: [], key: '/' });
  });

  it.each([
    ['users', 'must start with "/"'],
    ['/users/', 'has an empty segment'],
    ['/a//b', 'has an empty segment'],
    ['/{proxy+}/x', 'must be the last segment'],
    ['/files/*', 'has characters a resource path cannot hold'],
    ['/files/a?b', 'has characters a resource path cannot hold'],
  ])('refuses %s (%s)', (path, message) => {
    expect(() => parseRouteTemplate(path)).toThrow(message);
  });

  it(`refuses more than ${MAX_TEMPLATE_SEGMENTS} segments, and takes ${MAX_TEMPLATE_SEGMENTS}`, () => {
    const deep = (n: number) => `/${Array.from({ length: n }, (_, i) => `s${i}`).join('/')}`;
    expect(parseRouteTemplate(deep(MAX_TEMPLATE_SEGMENTS)).segments).toHaveLength(MAX_TEMPLATE_SEGMENTS);
    expect(() => parseRouteTemplate(deep(MAX_TEMPLATE_SEGMENTS + 1))).toThrow(`more than ${MAX_TEMPLATE_SEGMENTS} segments`);
  });
});

describe('splitPath', () => {
  it('splits on "/", the root being no segment, and keeps empty segments (a trailing or double slash)', () => {
    expect(splitPath('/')).toEqual([]);
    expect(splitPath('')).toEqual([]);
    expect(splitPath('/a/b')).toEqual(['a', 'b']);
    expect(splitPath('/x/')).toEqual(['x', '']);
    expect(splitPath('/a//b')).toEqual(['a', '', 'b']);
  });
});

describe('matchesTemplate', () => {
  const matches = (template: string, path: string) => matchesTemplate(parseRouteTemplate(template), splitPath(path));

  it('{name} matches exactly one segment', () => {
    expect(matches('/users/{id}', '/users/42')).toBe(true);
    expect(matches('/users/{id}', '/users')).toBe(false);
    expect(matches('/users/{id}', '/users/42/files')).toBe(false);
  });

  it('a greedy {name+} matches one segment or more, never none', () => {
    expect(matches('/files/{path+}', '/files/a')).toBe(true);
    expect(matches('/files/{path+}', '/files/a/b/c')).toBe(true);
    expect(matches('/files/{path+}', '/files')).toBe(false);
    expect(matches('/{proxy+}', '/')).toBe(false);
    expect(matches('/{proxy+}', '/anything/at/all')).toBe(true);
  });

  it('literals match only themselves, case included', () => {
    expect(matches('/users/me', '/users/me')).toBe(true);
    expect(matches('/users/me', '/users/Me')).toBe(false);
  });

  it('the root template matches the root path only', () => {
    expect(matches('/', '/')).toBe(true);
    expect(matches('/', '/x')).toBe(false);
  });

  it('a trailing slash (/x/) does not reach /x here, nor {id} nor a greedy parameter: empty segments match nothing', () => {
    // API Gateway itself routes `/x/` to `/x`; the authorizer denies every path with an empty
    // segment before routing (docs/decisions.md, "Empty path segments"), so no template matches one.
    expect(matches('/x', '/x/')).toBe(false);
    expect(matches('/x/{id}', '/x/')).toBe(false);
    expect(matches('/x/{rest+}', '/x/')).toBe(false);
    expect(matches('/{proxy+}', '/x/')).toBe(false);
    expect(matches('/{proxy+}', '/a//b')).toBe(false);
  });
});

describe('compareSpecificity', () => {
  const compare = (a: string, b: string) => Math.sign(compareSpecificity(parseRouteTemplate(a), parseRouteTemplate(b)));

  it('ranks, left to right, a literal above {name} above {name+}', () => {
    expect(compare('/users/me', '/users/{id}')).toBe(-1);
    expect(compare('/users/{id}', '/users/{rest+}')).toBe(-1);
    expect(compare('/users/{rest+}', '/users/me')).toBe(1);
    expect(compare('/{a}/me', '/users/{b}')).toBe(1);
  });

  it('ranks templates alike when their kinds agree segment by segment', () => {
    expect(compare('/users/{id}', '/users/{userId}')).toBe(0);
  });
});

describe('resolveRoute', () => {
  it('picks the most specific template among those that match, whatever the table order', () => {
    const rows: [string, string][] = [
      ['GET', '/{proxy+}'],
      ['GET', '/users/{id}'],
      ['GET', '/users/me'],
      ['GET', '/users/{id}/{rest+}'],
    ];
    for (const order of [rows, [...rows].reverse()]) {
      const routes = table(...order);
      expect(governing(routes, 'GET /users/me')).toBe('GET /users/me');
      expect(governing(routes, 'GET /users/42')).toBe('GET /users/{}');
      expect(governing(routes, 'GET /users/42/files/a')).toBe('GET /users/{}/{+}');
      expect(governing(routes, 'GET /orders')).toBe('GET /{+}');
    }
  });

  it('ANY (*) stands for every method, HEAD and OPTIONS included', () => {
    const routes = table(['*', '/items']);
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(governing(routes, `${method} /items`)).toBe('* /items');
    }
  });

  it('on the same template an exact method beats ANY, and ANY takes the other methods', () => {
    const routes = table(['*', '/items'], ['GET', '/items']);
    expect(governing(routes, 'GET /items')).toBe('GET /items');
    expect(governing(routes, 'HEAD /items')).toBe('* /items');
    expect(governing(routes, 'POST /items')).toBe('* /items');
  });

  it('a more specific template wins even when its method is ANY and the other route names the method', () => {
    const routes = table(['GET', '/users/{id}'], ['*', '/users/me']);
    expect(governing(routes, 'GET /users/me')).toBe('* /users/me');
  });

  it('filters by method before ranking paths: a less specific route of the method governs where the more specific path has only others', () => {
    // As the proof's model of API Gateway reads it too (proof/gateway-model.ts: methodMatches, then precedence).
    const routes = table(['GET', '/users/{id}'], ['POST', '/users/me']);
    expect(governing(routes, 'POST /users/me')).toBe('POST /users/me');
    expect(governing(routes, 'GET /users/me')).toBe('GET /users/{}');
  });

  it('a greedy parameter reaches any depth below its prefix, and not the prefix itself', () => {
    const routes = table(['GET', '/files/{path+}']);
    expect(governing(routes, 'GET /files/a/b/c/d')).toBe('GET /files/{+}');
    expect(governing(routes, 'GET /files')).toBeUndefined();
  });

  it('answers -1 when no route matches the method and the path', () => {
    const routes = table(['GET', '/items']);
    expect(resolveRoute(routes, 'POST', ['items'])).toBe(-1);
    expect(resolveRoute(routes, 'GET', ['items', 'x'])).toBe(-1);
    expect(resolveRoute(routes, 'GET', ['items', ''])).toBe(-1);
    expect(resolveRoute([], 'GET', [])).toBe(-1);
  });
});
