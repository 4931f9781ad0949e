/**
 * `npm run bench`: scopegate side by side with the anchors, in one run.
 *   1. warm decisions on distinct tokens, RS256/ES256/EdDSA: scopegate (its Lambda bundle) vs the floor
 *      (node:crypto verify + JSON.parse), the peer, aws-jwt-verify, jose, fast-jwt, jsonwebtoken+jwks-rsa;
 *   2. cold start of the minified bundles, interleaved: scopegate vs the peer (aws-jwt-verify with the
 *      same Powertools log line and EMF metric, bench/peer-handler.ts) vs a bare aws-jwt-verify handler;
 *   3. policy build time and size for 10/100/1000 routes, structured and unstructured, unrouted unreachable and deny;
 *   4. 500 concurrent first requests on a cold instance, and the JWKS fetches they cause;
 *   5. opaque tokens: a decision with the introspection cache cold (one HTTPS call to a
 *      loopback introspection endpoint) and warm (no call);
 *   6. the 401 path: rejected tokens (malformed, unknown kid, bad signature), each with what the
 *      Node.js Lambda runtime does with the thrown error (bench/reject-driver.mjs), scopegate vs the
 *      peer, each bundled with its source map, with and without --enable-source-maps (and the
 *      bundle's import time, which the source map lengthens).
 * `--smoke` runs each part briefly (CI keeps the bench working; no time is asserted).
 */
import { execFile } from 'node:child_process';
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { JwtVerifier } from 'aws-jwt-verify';
import { build } from 'esbuild';
import { createVerifier } from 'fast-jwt';
import { createLocalJWKSet, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import { Unrouted } from '../core/config';
import { compilePolicy, renderPolicy } from '../core/policy';
import { parseRouteTemplate } from '../core/routes';
import { BUNDLE_BANNER, BUNDLE_EXTERNALS, BUNDLE_FILE, BUNDLE_TARGET, BUNDLES_DIR } from '../lib/bundle-options';
import { EXAMPLE_ROUTES } from '../test/support/fixtures';
import { JwksServer } from '../test/support/jwks-server';
import { b64u, claims, makeKey, signJwt, type TestKey } from '../test/support/jwt';
import { TLS } from '../test/support/tls';

const SMOKE = process.argv.includes('--smoke');
/** `--only warm|cold|policies|concurrency|introspection|reject` runs one part (the README's numbers come from a full run). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const wants = (part: string) => ONLY === undefined || ONLY === part;
const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'bench', 'results');
const ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/';
const ISSUER = 'https://idp.test/realms/ops';
const AUDIENCE = 'https://api.example.internal';
const silent = { decision() {}, jwksFetch() {}, warn() {} };
/** Tokens per batch in the warm part: each row takes a batch in turn (see {@link warm}). */
const BATCH = 100;
/** The authorizer bundle the constructs deploy and the package ships (`npm run bench` builds it first), its map beside it. */
const SCOPEGATE_BUNDLE = join(ROOT, BUNDLES_DIR, 'authorizer', BUNDLE_FILE);

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { n: s.length, medianUs: round(at(0.5)), p99Us: round(at(0.99)) };
}
function round(x: number, digits = 2) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

type Verify = (token: string) => unknown;

type CreateHandler = typeof import('../functions/authorizer/handler').createHandler;

/** The authorizer as Lambda runs it: the minified bundle, not the TypeScript sources. */
async function bundledCreateHandler(): Promise<CreateHandler> {
  return ((await import(SCOPEGATE_BUNDLE)) as { createHandler: CreateHandler }).createHandler;
}

type PeerModule = {
  handler: (event: { authorizationToken: string; methodArn: string }) => Promise<unknown>;
  verifier: { cacheJwks(jwks: unknown): void };
};

/** The peer bundle, loaded afresh for one configuration (it reads AUTHZ_CONFIG when imported). */
async function peerHandler(config: unknown, tag: string): Promise<PeerModule> {
  const dir = join(OUT, 'bundles');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'peer-authorizer.mjs');
  await bundle(join(ROOT, 'bench/peer-handler.ts'), path);
  const saved = process.env.AUTHZ_CONFIG;
  process.env.AUTHZ_CONFIG = JSON.stringify(config);
  try {
    return (await import(`${pathToFileURL(path).href}?config=${tag}`)) as PeerModule;
  } finally {
    process.env.AUTHZ_CONFIG = saved;
  }
}

async function warm(server: JwksServer, jwksUri: string) {
  const createHandler = await bundledCreateHandler();
  const results: Record<string, Record<string, ReturnType<typeof stats> & { ratioToFloor: number }>> = {};
  const tokensPerAlg = SMOKE ? 60 : 3000;
  const rounds = SMOKE ? 2 : 10;
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    const key: TestKey = makeKey(alg, `bench-${alg}`);
    server.keys = [key.publicJwk];
    const tokens = Array.from({ length: tokensPerAlg }, (_, i) => signJwt(key, claims({ iss: ISSUER, sub: `user-${i}` })));
    const keyObject: KeyObject = createPublicKey({ key: key.publicJwk as never, format: 'jwk' });
    const hash = alg === 'EdDSA' ? null : 'sha256';
    const cfgRaw = {
      issuers: [{ issuer: ISSUER, jwksUri, audience: AUDIENCE, algorithms: [alg], tokenType: 'at+jwt' }],
      routes: EXAMPLE_ROUTES,
    };
    const handler = createHandler({ env: { AUTHZ_CONFIG: JSON.stringify(cfgRaw) }, ca: TLS.cert, telemetry: silent });
    const logged = createHandler({ env: { AUTHZ_CONFIG: JSON.stringify(cfgRaw) }, ca: TLS.cert });
    const peer = await peerHandler(cfgRaw, alg);
    peer.verifier.cacheJwks({ keys: [key.publicJwk] } as never);
    const awsJwtVerify = JwtVerifier.create({ issuer: ISSUER, audience: AUDIENCE, jwksUri });
    awsJwtVerify.cacheJwks({ keys: [key.publicJwk] } as never);
    const joseSet = createLocalJWKSet({ keys: [key.publicJwk as never] });
    const fast = createVerifier({
      key: keyObject.export({ format: 'pem', type: 'spki' }).toString(),
      algorithms: [alg],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      cache: false,
    });
    const jwksClient = new JwksClient({ jwksUri, cache: true, requestAgent: new Agent({ ca: TLS.cert }) });
    const getKey: jsonwebtoken.GetPublicKeyOrSecret = (header, cb) => {
      jwksClient.getSigningKey(header.kid, (err, k) => cb(err, k?.getPublicKey()));
    };
    const impls: Record<string, Verify> = {
      floor: (t) => {
        const i = t.indexOf('.');
        const j = t.lastIndexOf('.');
        const input = Buffer.from(t.slice(0, j));
        const sig = Buffer.from(t.slice(j + 1), 'base64url');
        const ok =
          alg === 'ES256'
            ? cryptoVerify(hash, input, { key: keyObject, dsaEncoding: 'ieee-p1363' }, sig)
            : cryptoVerify(hash, input, keyObject, sig);
        if (!ok) throw new Error('bad');
        return JSON.parse(Buffer.from(t.slice(i + 1, j), 'base64url').toString());
      },
      scopegate: (t) => handler({ type: 'TOKEN', authorizationToken: `Bearer ${t}`, methodArn: `${ARN}GET/telemetry` }),
      'scopegate+logs': (t) => logged({ type: 'TOKEN', authorizationToken: `Bearer ${t}`, methodArn: `${ARN}GET/telemetry` }),
      'peer (aws-jwt-verify+logs)': (t) => peer.handler({ authorizationToken: `Bearer ${t}`, methodArn: `${ARN}GET/telemetry` }),
      'aws-jwt-verify': (t) => awsJwtVerify.verifySync(t),
      jose: (t) => jwtVerify(t, joseSet, { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] }),
      'fast-jwt': (t) => fast(t),
      'jsonwebtoken+jwks-rsa': (t) =>
        new Promise((resolve, reject) =>
          jsonwebtoken.verify(t, getKey, { algorithms: [alg as jsonwebtoken.Algorithm], issuer: ISSUER, audience: AUDIENCE }, (e, p) =>
            e ? reject(e) : resolve(p),
          ),
        ),
    };
    if (alg === 'EdDSA') delete impls['jsonwebtoken+jwks-rsa']; // jsonwebtoken does not support EdDSA
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(impls).map((n) => [n, []]));
    // Logs go nowhere while this part runs (their serialization still runs and is timed),
    // stdout and stderr alike (Powertools writes WARN and ERROR lines to stderr).
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      // Warm-up: fetch keys, JIT.
      for (const fn of Object.values(impls)) for (const t of tokens.slice(0, 50)) await fn(t);
      // Interleaved in batches of BATCH tokens, the rows in rotating order, so that the
      // machine's drift (shared, frequency-scaled) hits every row alike.
      const entries = Object.entries(impls);
      for (let r = 0; r < rounds; r++) {
        for (let b = 0; b < tokens.length; b += BATCH) {
          for (let k = 0; k < entries.length; k++) {
            const [name, fn] = entries[(k + r + b / BATCH) % entries.length] as [string, Verify];
            for (const t of tokens.slice(b, b + BATCH)) {
              const t0 = process.hrtime.bigint();
              await fn(t);
              samples[name]?.push(Number(process.hrtime.bigint() - t0) / 1000);
            }
          }
        }
      }
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
    const floor = stats(samples.floor as number[]).medianUs;
    results[alg] = Object.fromEntries(
      Object.entries(samples).map(([n, s]) => {
        const st = stats(s);
        return [n, { ...st, ratioToFloor: round(st.medianUs / floor) }];
      }),
    );
  }
  return results;
}

/** Bundle `entry` as the stack does (minified ESM); with `sourcemap`, a linked `.map` beside it, as NodejsFunction's `sourceMap: true` writes. */
async function bundle(entry: string, outfile: string, sourcemap = false) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: BUNDLE_TARGET,
    mainFields: ['module', 'main'],
    external: BUNDLE_EXTERNALS,
    sourcemap,
    banner: { js: BUNDLE_BANNER },
    logLevel: 'silent',
  });
  return statSync(outfile).size;
}

/** Quartiles of a sample. */
function spread(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] as number;
  return { median: round(median(xs)), p25: round(at(0.25)), p75: round(at(0.75)) };
}

/**
 * Cold start to the first decision: each bundle in a fresh Node process, interleaved round by
 * round (the order rotates each round so no bundle always runs after the same neighbour), so
 * the machine's drift hits all rows alike. Ratios are per round (scopegate's time over the
 * peer's in the same round), then summarized: the median and quartiles of those ratios are
 * the numbers to quote.
 */
async function cold(jwksUri: string, server: JwksServer) {
  const dir = join(OUT, 'bundles');
  mkdirSync(dir, { recursive: true });
  const paths = {
    scopegate: SCOPEGATE_BUNDLE,
    peer: join(dir, 'peer-authorizer.mjs'),
    'bare aws-jwt-verify': join(dir, 'bare-aws-jwt-verify.mjs'),
  } as const;
  type Name = keyof typeof paths;
  const sizes = {
    scopegateBytes: statSync(paths.scopegate).size,
    peerBytes: await bundle(join(ROOT, 'bench/peer-handler.ts'), paths.peer),
    bareBytes: await bundle(join(ROOT, 'bench/bare-handler.ts'), paths['bare aws-jwt-verify']),
  };
  const key = makeKey('ES256', 'cold-1');
  server.keys = [key.publicJwk];
  const config = JSON.stringify({
    issuers: [{ issuer: ISSUER, jwksUri, audience: AUDIENCE, algorithms: ['ES256'] }],
    routes: EXAMPLE_ROUTES,
  });
  // Logs go to the child's stdout; the driver prints its result last. Both telemetry-bearing
  // bundles log at INFO, as deployed.
  const env = { ...process.env, AUTHZ_CONFIG: config, NODE_EXTRA_CA_CERTS: TLS.certPath };
  // 60 rounds: the per-round ratio's spread between runs (1.08 to 1.15 in three runs of 40) was wider than the target's margin.
  const rounds = SMOKE ? 2 : 60;
  const names = Object.keys(paths) as Name[];
  const times: Record<Name, number[]> = { scopegate: [], peer: [], 'bare aws-jwt-verify': [] };
  for (let i = 0; i < rounds; i++) {
    const order = [...names.slice(i % names.length), ...names.slice(0, i % names.length)];
    for (const name of order) {
      const token = signJwt(key, claims({ iss: ISSUER }));
      // Asynchronous, so that this process's key set server answers the child's fetch.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(ROOT, 'bench/cold-driver.mjs'), paths[name], token, `${ARN}GET/telemetry`],
        { env, maxBuffer: 1 << 24 },
      );
      // The driver's line, among the bundle's log lines (some may follow it: a key fetch's line is written after the decision).
      const line = stdout.split('\n').findLast((l) => l.startsWith('{"ms":')) as string;
      times[name].push(JSON.parse(line).ms);
    }
  }
  const ratios = (other: Name) => times.scopegate.map((t, i) => t / (times[other][i] as number));
  return {
    ...sizes,
    rounds,
    ms: Object.fromEntries(names.map((n) => [n, spread(times[n])])),
    ratioToPeer: spread(ratios('peer')),
    ratioToBare: spread(ratios('bare aws-jwt-verify')),
  };
}

function routeTable(n: number, structured: boolean) {
  const routes: { method: string; path: string; scopes: string[] }[] = [];
  const methods = ['GET', 'POST', 'PUT', 'DELETE'];
  let i = 0;
  while (routes.length < n) {
    if (structured) {
      // Resources with sub-resources: /r{k}, /r{k}/{id}, /r{k}/{id}/items, /r{k}/{id}/items/{itemId}
      const k = Math.floor(i / 8);
      const shapes = [`/r${k}`, `/r${k}/{id}`, `/r${k}/{id}/items`, `/r${k}/{id}/items/{itemId}`];
      const path = shapes[i % 4] as string;
      const method = i % 8 < 4 ? 'GET' : (methods[1 + (i % 3)] as string);
      routes.push({ method, path, scopes: [`r${k}:${method === 'GET' ? 'read' : 'write'}`] });
    } else {
      const depth = 1 + (i % 4);
      const segs = Array.from({ length: depth }, (_, d) => (d % 2 === 1 && i % 3 === 0 ? `{p${d}}` : `s${(i * 7 + d * 13) % 997}`));
      routes.push({ method: methods[i % 4] as string, path: `/${segs.join('/')}`, scopes: [`scope${i % 17}:x`] });
    }
    i++;
  }
  const seen = new Set<string>();
  return routes.filter((r) => {
    const k = `${r.method} ${parseRouteTemplate(r.path).key}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function policies() {
  const out: Record<string, unknown>[] = [];
  // `unreachable`: API Gateway's resources are the table (what the construct deploys for an API it
  // builds); `deny`: unrouted requests reach the authorizer and every policy must deny them too.
  for (const unrouted of [Unrouted.UNREACHABLE, Unrouted.DENY]) {
    for (const structured of [true, false]) {
      for (const n of [10, 100, 1000]) {
        // A table of its own per mode, so that the first compile builds its analysis.
        const table = routeTable(n, structured).map((r) => ({
          method: r.method as never,
          template: parseRouteTemplate(r.path),
          scopes: r.scopes,
        }));
        const granted = new Set(table.flatMap((r) => r.scopes).filter((_, i) => i % 2 === 0));
        const allowed = (i: number) => (table[i]?.scopes ?? []).every((s) => granted.has(s));
        const iterations = SMOKE ? 3 : n >= 1000 ? 20 : 200;
        const times: number[] = [];
        let bytes = 0;
        let exact = true;
        // The first compile of a table also builds its analysis (cells and candidates), once per configuration.
        const first = process.hrtime.bigint();
        compilePolicy(table, allowed, { unrouted });
        const firstMs = Number(process.hrtime.bigint() - first) / 1e6;
        for (let k = 0; k < iterations; k++) {
          const t0 = process.hrtime.bigint();
          const compiled = compilePolicy(table, allowed, { unrouted });
          const policy = renderPolicy(compiled, ARN);
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
          bytes = Buffer.byteLength(JSON.stringify(policy));
          exact = compiled.exact;
        }
        out.push({
          unrouted,
          table: structured ? 'structured' : 'unstructured',
          routes: table.length,
          firstCompileMs: round(firstMs, 1),
          buildMedianMs: round(median(times), 3),
          bytes,
          exact,
        });
      }
    }
  }
  return out;
}

async function concurrency(jwksUri: string, server: JwksServer) {
  const createHandler = await bundledCreateHandler();
  const key = makeKey('ES256', 'conc-1');
  server.keys = [key.publicJwk];
  server.fetches = 0;
  const cfg = { issuers: [{ issuer: ISSUER, jwksUri, audience: AUDIENCE, algorithms: ['ES256'] }], routes: EXAMPLE_ROUTES };
  const handler = createHandler({ env: { AUTHZ_CONFIG: JSON.stringify(cfg) }, ca: TLS.cert, telemetry: silent });
  const tokens = Array.from({ length: 500 }, (_, i) => signJwt(key, claims({ iss: ISSUER, sub: `u${i}` })));
  const t0 = performance.now();
  const results = await Promise.allSettled(
    tokens.map((t) => handler({ type: 'TOKEN', authorizationToken: `Bearer ${t}`, methodArn: `${ARN}GET/telemetry` })),
  );
  return {
    requests: 500,
    allowed: results.filter((r) => r.status === 'fulfilled').length,
    jwksFetches: server.fetches,
    wallMs: round(performance.now() - t0),
  };
}

async function introspection() {
  const { createServer } = await import('node:https');
  let calls = 0;
  const server = createServer({ cert: TLS.cert, key: TLS.key }, (req, res) => {
    calls++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          active: true,
          token_type: 'Bearer',
          aud: AUDIENCE,
          scope: 'telemetry:read',
          client_id: 'bench',
          sub: 'bench',
          exp: Math.floor(Date.now() / 1000) + 600,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const endpoint = `https://127.0.0.1:${(server.address() as { port: number }).port}/introspect`;
    const createHandler = await bundledCreateHandler();
    const cfg = {
      issuers: [
        {
          issuer: ISSUER,
          jwksUri: 'https://keys.invalid/jwks',
          audience: AUDIENCE,
          introspection: { endpoint, clientId: 'bench', clientSecret: 'secret', timeoutMs: 1000 },
        },
      ],
      routes: EXAMPLE_ROUTES,
    };
    const handler = createHandler({
      env: { AUTHZ_CONFIG: JSON.stringify(cfg) },
      ca: TLS.cert,
      fetcher: { fetch: async () => ({ keys: [] }) },
      telemetry: silent,
    });
    const n = SMOKE ? 20 : 400;
    const cold: number[] = [];
    const warmSamples: number[] = [];
    for (let i = 0; i < n; i++) {
      const token = `opaque-${i}-${Math.random().toString(36).slice(2)}`;
      const event = { type: 'TOKEN' as const, authorizationToken: `Bearer ${token}`, methodArn: `${ARN}GET/telemetry` };
      let t0 = process.hrtime.bigint();
      await handler(event);
      cold.push(Number(process.hrtime.bigint() - t0) / 1000);
      t0 = process.hrtime.bigint();
      await handler(event);
      warmSamples.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    return { decisions: n, calls, coldCache: stats(cold), warmCache: stats(warmSamples) };
  } finally {
    server.close();
  }
}

/**
 * The 401 path, the one a flood of bad tokens takes: per rejected token, the handler's work
 * plus the Node.js Lambda runtime's on the thrown error (bench/reject-driver.mjs), each bundle
 * with its source map as deployed, in fresh processes with and without --enable-source-maps
 * in NODE_OPTIONS, interleaved round by round in rotating order.
 */
async function rejections(jwksUri: string, server: JwksServer) {
  const dir = join(OUT, 'bundles');
  mkdirSync(dir, { recursive: true });
  const bundles = { scopegate: SCOPEGATE_BUNDLE, peer: join(dir, 'peer-authorizer-mapped.mjs') } as const;
  await bundle(join(ROOT, 'bench/peer-handler.ts'), bundles.peer, true);
  const mapBytes = { scopegate: statSync(`${bundles.scopegate}.map`).size, peer: statSync(`${bundles.peer}.map`).size };
  const key = makeKey('RS256', 'reject-1');
  const impostor = makeKey('RS256', 'reject-1'); // the same kid, another key: a bad signature
  const stranger = makeKey('RS256', 'reject-unknown');
  server.keys = [key.publicJwk];
  const perKind = SMOKE ? 40 : 1500;
  const warmup = SMOKE ? 10 : 300;
  const distinct = (make: (i: number) => string) => Array.from({ length: perKind }, (_, i) => `Bearer ${make(i)}`);
  const tokens = {
    valid: Array.from({ length: 20 }, (_, i) => `Bearer ${signJwt(key, claims({ iss: ISSUER, sub: `ok-${i}` }))}`),
    // Three segments of the Bearer regex's alphabet (API Gateway passes them on), the header not JSON.
    malformed: distinct((i) => `${b64u('{"alg":"RS256","kid":"reject-1"')}.${b64u(`{"sub":"m-${i}"}`)}.c2lnbmF0dXJl${i}`),
    'unknown kid': distinct((i) => signJwt(stranger, claims({ iss: ISSUER, sub: `k-${i}` }))),
    'bad signature': distinct((i) => signJwt(impostor, claims({ iss: ISSUER, sub: `s-${i}` }))),
  };
  const tokensFile = join(dir, 'reject-tokens.json');
  writeFileSync(tokensFile, JSON.stringify(tokens));
  const config = JSON.stringify({
    issuers: [{ issuer: ISSUER, jwksUri, audience: AUDIENCE, algorithms: ['RS256'] }],
    routes: EXAMPLE_ROUTES,
  });
  const variants = [
    { name: 'scopegate, with --enable-source-maps', bundle: bundles.scopegate, maps: true },
    { name: 'scopegate, without (as deployed)', bundle: bundles.scopegate, maps: false },
    { name: 'peer, with --enable-source-maps', bundle: bundles.peer, maps: true },
    { name: 'peer, without', bundle: bundles.peer, maps: false },
  ];
  type Samples = { totalUs: number[]; runtimeUs: number[]; bytes: Record<string, number> };
  const samples: Record<string, { importMs: number[]; kinds: Record<string, Samples> }> = {};
  const rounds = SMOKE ? 1 : 4;
  for (let round = 0; round < rounds; round++) {
    const order = [...variants.slice(round % variants.length), ...variants.slice(0, round % variants.length)];
    for (const v of order) {
      const env = {
        ...process.env,
        AUTHZ_CONFIG: config,
        NODE_EXTRA_CA_CERTS: TLS.certPath,
        NODE_OPTIONS: v.maps ? '--enable-source-maps' : '',
      };
      // Asynchronous, so that this process's key set server answers the child's fetches.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(ROOT, 'bench/reject-driver.mjs'), v.bundle, tokensFile, String(warmup)],
        {
          env,
          maxBuffer: 1 << 26,
        },
      );
      const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { importMs: number; kinds: Record<string, Samples> };
      const into = samples[v.name] ?? { importMs: [], kinds: {} };
      samples[v.name] = into;
      into.importMs.push(result.importMs);
      for (const [kind, s] of Object.entries(result.kinds)) {
        const k = into.kinds[kind] ?? { totalUs: [], runtimeUs: [], bytes: s.bytes };
        into.kinds[kind] = k;
        // Pushed one by one: a spread of thousands of samples can exceed the argument limit.
        for (const x of s.totalUs) k.totalUs.push(x);
        for (const x of s.runtimeUs) k.runtimeUs.push(x);
      }
    }
  }
  const kinds = Object.keys(tokens).filter((k) => k !== 'valid');
  const rows = Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      {
        importMs: spread(s.importMs).median,
        ...Object.fromEntries(
          kinds.map((kind) => {
            const k = s.kinds[kind] as Samples;
            const total = stats(k.totalUs);
            return [kind, { ...total, runtimeMedianUs: stats(k.runtimeUs).medianUs, bytes: k.bytes }];
          }),
        ),
      },
    ]),
  );
  const medianOf = (name: string, kind: string) =>
    (rows[name] as unknown as Record<string, { medianUs: number }>)[kind]?.medianUs ?? Number.NaN;
  const ratioToPeer = Object.fromEntries(
    kinds.map((kind) => [
      kind,
      {
        'with --enable-source-maps': round(medianOf(variants[0]?.name as string, kind) / medianOf(variants[2]?.name as string, kind)),
        'without (as deployed)': round(medianOf(variants[1]?.name as string, kind) / medianOf(variants[3]?.name as string, kind)),
      },
    ]),
  );
  return { perKind: perKind - warmup, rounds, mapBytes, rows, ratioToPeer };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const server = new JwksServer();
  const jwksUri = await server.start();
  try {
    const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, date: new Date().toISOString(), smoke: SMOKE };
    const conc = wants('concurrency') ? await concurrency(jwksUri, server) : undefined;
    const warmResults = wants('warm') ? await warm(server, jwksUri) : {};
    const coldResults = wants('cold') ? await cold(jwksUri, server) : undefined;
    const policyResults = wants('policies') ? policies() : [];
    const introspectionResults = wants('introspection') ? await introspection() : undefined;
    const rejectResults = wants('reject') ? await rejections(jwksUri, server) : undefined;
    const report = {
      machine,
      warm: warmResults,
      cold: coldResults,
      policies: policyResults,
      concurrency: conc,
      introspection: introspectionResults,
      reject: rejectResults,
    };
    writeFileSync(join(OUT, SMOKE ? 'smoke.json' : ONLY ? `only-${ONLY}.json` : 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      `machine: ${machine.cpu} x${machine.cores}, Node ${machine.node}, ${machine.date}${SMOKE ? ' (smoke run: numbers are not meaningful)' : ''}`,
    );
    if (ONLY === undefined || ONLY === 'warm') console.log('\n1. warm decisions, distinct tokens (µs per decision)');
    for (const [alg, rows] of Object.entries(warmResults)) {
      console.table(
        Object.fromEntries(
          Object.entries(rows).map(([n, r]) => [`${alg} ${n}`, { median: r.medianUs, p99: r.p99Us, 'x floor': r.ratioToFloor }]),
        ),
      );
    }
    if (coldResults) {
      console.log(`\n2. cold start to first decision, minified bundles (ms; ${coldResults.rounds} interleaved rounds)`);
      console.table(coldResults.ms);
      console.table({ 'scopegate / peer': coldResults.ratioToPeer, 'scopegate / bare': coldResults.ratioToBare });
      console.table({
        bytes: { scopegate: coldResults.scopegateBytes, peer: coldResults.peerBytes, bare: coldResults.bareBytes },
      });
    }
    if (policyResults.length > 0) {
      console.log('\n3. policies');
      console.table(policyResults);
    }
    if (conc) {
      console.log('\n4. 500 concurrent first requests on a cold instance');
      console.table({ concurrency: conc });
    }
    if (introspectionResults) {
      console.log('\n5. opaque tokens by introspection (µs per decision; one HTTPS call on loopback when cold)');
      console.table({ cold: introspectionResults.coldCache, warm: introspectionResults.warmCache });
    }
    if (rejectResults) {
      console.log(
        `\n6. the 401 path: µs per rejected token, handler + the Lambda runtime's error report (median of ${rejectResults.perKind} x ${rejectResults.rounds} rounds; source maps ${rejectResults.mapBytes.scopegate} / ${rejectResults.mapBytes.peer} bytes)`,
      );
      console.table(
        Object.fromEntries(
          Object.entries(rejectResults.rows).map(([name, r]) => {
            const row = r as unknown as Record<string, { medianUs: number; p99Us: number; runtimeMedianUs: number }> & { importMs: number };
            const cell = (kind: string) => `${row[kind]?.medianUs} (runtime ${row[kind]?.runtimeMedianUs})`;
            return [
              name,
              {
                malformed: cell('malformed'),
                'unknown kid': cell('unknown kid'),
                'bad signature': cell('bad signature'),
                'import ms': row.importMs,
              },
            ];
          }),
        ),
      );
      console.table(Object.fromEntries(Object.entries(rejectResults.ratioToPeer).map(([kind, r]) => [`scopegate / peer, ${kind}`, r])));
    }
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
