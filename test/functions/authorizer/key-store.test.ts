import { InvalidTokenError, KeysUnavailableError } from '../../../core/errors';
import { KeyStore } from '../../../functions/authorizer/key-store';
import { makeKey } from '../../support/jwt';

const URI = 'https://keys.test/jwks.json';
const k1 = makeKey('ES256', 'k1');
const k2 = makeKey('ES256', 'k2');

function setup(initial: Record<string, unknown>[]) {
  let clock = 1_000_000;
  const state = { keys: initial, fail: false, fetches: 0, gate: undefined as Promise<void> | undefined };
  const store = new KeyStore({
    now: () => clock,
    minRefetchIntervalMs: 10_000,
    maxAgeMs: 3_600_000,
    fetcher: {
      fetch: async () => {
        state.fetches++;
        if (state.gate) await state.gate;
        if (state.fail) throw new Error('connection refused');
        return { keys: state.keys };
      },
    },
  });
  return { store, state, advance: (ms: number) => (clock += ms) };
}

/** Let settled promises' continuations run (a background refresh lands). */
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** The promise's value, or 'timed out' after `ms` of real time. */
function within<T>(ms: number, promise: Promise<T>): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('KeyStore', () => {
  it('shares one fetch among concurrent first requests', async () => {
    const { store, state } = setup([k1.publicJwk]);
    let open!: () => void;
    state.gate = new Promise((resolve) => (open = resolve));
    const pending = Array.from({ length: 500 }, () => store.getKey(URI, 'k1', 'ES256'));
    open();
    await Promise.all(pending);
    expect(state.fetches).toBe(1);
  });

  it('gives a held key without a promise, and nothing before its key set is fetched', async () => {
    const { store } = setup([k1.publicJwk]);
    expect(store.heldKey(URI, 'k1', 'ES256')).toBeUndefined();
    await store.getKey(URI, 'k1', 'ES256');
    expect(store.heldKey(URI, 'k1', 'ES256')).toMatchObject({ kid: 'k1', alg: 'ES256' });
    expect(store.heldKey(URI, 'k1', 'ES256')).toBe(store.heldKey([URI], 'k1', 'ES256'));
    expect(store.heldKey(URI, 'k2', 'ES256')).toBeUndefined();
    expect(() => store.heldKey(URI, 'k1', 'RS256')).toThrow(expect.objectContaining({ reason: 'invalid_token.key_mismatch' }));
  });

  it('refetches once on an unknown kid and finds a rotated key', async () => {
    const { store, state, advance } = setup([k1.publicJwk]);
    await store.getKey(URI, 'k1', 'ES256');
    state.keys = [k1.publicJwk, k2.publicJwk];
    advance(11_000);
    await expect(store.getKey(URI, 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
    expect(state.fetches).toBe(2);
  });

  it('rate-limits refetches: 1000 invented kids within a minute cause a handful of fetches', async () => {
    const { store, state, advance } = setup([k1.publicJwk]);
    await store.getKey(URI, 'k1', 'ES256');
    for (let i = 0; i < 1000; i++) {
      await expect(store.getKey(URI, `invented-${i}`, 'ES256')).rejects.toBeInstanceOf(InvalidTokenError);
      advance(60);
    }
    // 60 s of flood with a 10 s interval: the first fetch plus at most 7 refetches.
    expect(state.fetches).toBeLessThanOrEqual(8);
  });

  it('does not block a rotated key for longer than the refetch interval', async () => {
    const { store, state, advance } = setup([k1.publicJwk]);
    await store.getKey(URI, 'k1', 'ES256');
    await expect(store.getKey(URI, 'junk', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.unknown_kid' });
    state.keys = [k1.publicJwk, k2.publicJwk];
    await expect(store.getKey(URI, 'k2', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.unknown_kid' });
    advance(10_000);
    await expect(store.getKey(URI, 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
  });

  it('keeps verifying with held keys when a refetch fails (stale-if-error)', async () => {
    const { store, state, advance } = setup([k1.publicJwk]);
    await store.getKey(URI, 'k1', 'ES256');
    state.fail = true;
    advance(3_700_000);
    await expect(store.getKey(URI, 'k1', 'ES256')).resolves.toMatchObject({ kid: 'k1' });
    expect(state.fetches).toBe(2);
  });

  it('fails closed with KeysUnavailableError for an unknown kid while the key set cannot be fetched', async () => {
    const { store, state, advance } = setup([k1.publicJwk]);
    await store.getKey(URI, 'k1', 'ES256');
    state.fail = true;
    advance(11_000);
    await expect(store.getKey(URI, 'k2', 'ES256')).rejects.toBeInstanceOf(KeysUnavailableError);
  });

  it('fails closed with KeysUnavailableError when no keys were ever fetched', async () => {
    const { store, state } = setup([k1.publicJwk]);
    state.fail = true;
    await expect(store.getKey(URI, 'k1', 'ES256')).rejects.toBeInstanceOf(KeysUnavailableError);
  });

  it('never replaces held keys with an empty or invalid key set', async () => {
    const { store, state, advance } = setup([k1.publicJwk]);
    await store.getKey(URI, 'k1', 'ES256');
    state.keys = [];
    advance(3_700_000);
    await expect(store.getKey(URI, 'k1', 'ES256')).resolves.toMatchObject({ kid: 'k1' });
  });

  it('refreshes keys older than maxAge in the background, then drops a key the issuer withdrew', async () => {
    const { store, state, advance } = setup([k1.publicJwk, k2.publicJwk]);
    await store.getKey(URI, 'k1', 'ES256');
    state.keys = [k2.publicJwk];
    advance(3_700_000);
    // Served from the held keys while the refresh runs…
    await expect(store.getKey(URI, 'k1', 'ES256')).resolves.toMatchObject({ kid: 'k1' });
    await flush();
    // …and refused once it has landed.
    await expect(store.getKey(URI, 'k1', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.unknown_kid' });
    // The first fetch, the background refresh, and the one refetch the unknown kid earns.
    expect(state.fetches).toBe(3);
  });

  describe('past jwks.maxAgeSeconds (issue 10 item 6)', () => {
    it('serves held keys without waiting while the endpoint hangs', async () => {
      const { store, state, advance } = setup([k1.publicJwk]);
      await store.getKey(URI, 'k1', 'ES256');
      state.gate = new Promise(() => undefined); // the endpoint accepts and never answers
      advance(3_700_000);
      for (let i = 0; i < 100; i++) {
        await expect(within(50, store.getKey(URI, 'k1', 'ES256'))).resolves.toMatchObject({ kid: 'k1' });
      }
      // One background refresh, shared by every request while it hangs.
      expect(state.fetches).toBe(2);
    });

    it('rate-limits the background refresh while it fails, like the unknown-kid refetch', async () => {
      const { store, state, advance } = setup([k1.publicJwk]);
      await store.getKey(URI, 'k1', 'ES256');
      state.fail = true;
      advance(3_700_000);
      for (let i = 0; i < 600; i++) {
        await store.getKey(URI, 'k1', 'ES256');
        await flush();
        advance(100);
      }
      // 60 s of requests, failing refreshes at most one per 10 s.
      expect(state.fetches - 1).toBeGreaterThanOrEqual(5);
      expect(state.fetches - 1).toBeLessThanOrEqual(7);
    });

    it('picks up a new key set once the background refresh succeeds', async () => {
      const { store, state, advance } = setup([k1.publicJwk]);
      await store.getKey(URI, 'k1', 'ES256');
      advance(3_700_000);
      state.keys = [k1.publicJwk, k2.publicJwk];
      await store.getKey(URI, 'k1', 'ES256');
      await flush();
      await expect(store.getKey(URI, 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
      expect(state.fetches).toBe(2);
    });
  });

  describe('an unknown kid right after a successful fetch (issue 10 item 7)', () => {
    it('finds a key rotated in right after the cold-start prefetch, with one refetch', async () => {
      const { store, state } = setup([k1.publicJwk]);
      await store.prefetch(URI);
      state.keys = [k1.publicJwk, k2.publicJwk];
      await expect(store.getKey(URI, 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
      expect(state.fetches).toBe(2);
    });

    it('finds a key rotated in right after a request-driven fetch', async () => {
      const { store, state, advance } = setup([k1.publicJwk]);
      await store.getKey(URI, 'k1', 'ES256');
      advance(1);
      state.keys = [k1.publicJwk, k2.publicJwk];
      await expect(store.getKey(URI, 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
    });

    it('starts the penalty box only after a refetch that did not find the kid', async () => {
      const { store, state, advance } = setup([k1.publicJwk]);
      await store.prefetch(URI);
      await expect(store.getKey(URI, 'invented-1', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.unknown_kid' });
      expect(state.fetches).toBe(2);
      // Inside the box: neither another invented kid nor a genuinely new one refetches.
      state.keys = [k1.publicJwk, k2.publicJwk];
      await expect(store.getKey(URI, 'invented-2', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.unknown_kid' });
      await expect(store.getKey(URI, 'k2', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.unknown_kid' });
      expect(state.fetches).toBe(2);
      advance(10_000);
      await expect(store.getKey(URI, 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
      expect(state.fetches).toBe(3);
    });

    it('shares one refetch among concurrent requests for the same unknown kid', async () => {
      const { store, state } = setup([k1.publicJwk]);
      await store.prefetch(URI);
      await Promise.all(
        Array.from({ length: 50 }, () => expect(store.getKey(URI, 'invented', 'ES256')).rejects.toBeInstanceOf(InvalidTokenError)),
      );
      expect(state.fetches).toBe(2);
    });
  });

  describe('a reloaded configuration (issue 10 item 8)', () => {
    it('refuses a held 2048-bit key once the configuration asks for 4096 bits', async () => {
      const rsa = makeKey('RS256', 'r1', { bits: 2048 });
      const { store, state } = setup([rsa.publicJwk]);
      await expect(store.getKey(URI, 'r1', 'RS256')).resolves.toMatchObject({ kid: 'r1' });
      store.configure({ fetcher: { fetch: async () => ({ keys: state.keys }) }, minRsaBits: 4096 });
      await expect(store.getKey(URI, 'r1', 'RS256')).rejects.toMatchObject({ reason: 'invalid_token.weak_key' });
      store.configure({ fetcher: { fetch: async () => ({ keys: state.keys }) }, minRsaBits: 2048 });
      await expect(store.getKey(URI, 'r1', 'RS256')).resolves.toMatchObject({ kid: 'r1' });
    });

    it('uses the new fetcher and refetch interval', async () => {
      const { store, advance } = setup([k1.publicJwk]);
      await store.getKey(URI, 'k1', 'ES256');
      let newFetches = 0;
      store.configure({
        fetcher: {
          fetch: async () => {
            newFetches++;
            return { keys: [k1.publicJwk, k2.publicJwk] };
          },
        },
        minRefetchIntervalMs: 60_000,
      });
      advance(1);
      await expect(store.getKey(URI, 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
      expect(newFetches).toBe(1);
      await expect(store.getKey(URI, 'x', 'ES256')).rejects.toBeInstanceOf(InvalidTokenError);
      advance(30_000);
      await expect(store.getKey(URI, 'y', 'ES256')).rejects.toBeInstanceOf(InvalidTokenError);
      expect(newFetches).toBe(2);
    });
  });

  describe('an ordered list of key sets: the mirror, then the issuer (issue 12 item 3)', () => {
    const MIRROR = 'https://mirror.test/ops/jwks.json';
    const ISSUER = 'https://idp.test/jwks';
    function chain() {
      const served: Record<string, { keys?: Record<string, unknown>[]; status?: number }> = {
        [MIRROR]: { keys: [k1.publicJwk] },
        [ISSUER]: { keys: [k1.publicJwk] },
      };
      const fetches: string[] = [];
      let clock = 1_000_000;
      const store = new KeyStore({
        now: () => clock,
        fetcher: {
          fetch: async (uri) => {
            fetches.push(uri);
            const answer = served[uri];
            if (answer?.keys === undefined) throw new Error(`HTTP ${answer?.status ?? 404}`);
            return { keys: answer.keys };
          },
        },
      });
      return { store, served, fetches, advance: (ms: number) => (clock += ms) };
    }

    it('reads the mirror only, while it has the kid', async () => {
      const { store, fetches } = chain();
      await store.prefetch([MIRROR, ISSUER]);
      await expect(store.getKey([MIRROR, ISSUER], 'k1', 'ES256')).resolves.toMatchObject({ kid: 'k1' });
      expect(fetches).toEqual([MIRROR]);
    });

    it('falls back to the issuer when the mirror does not exist yet (first deploy)', async () => {
      const { store, served, fetches } = chain();
      served[MIRROR] = { status: 403 };
      await store.prefetch([MIRROR, ISSUER]);
      await expect(store.getKey([MIRROR, ISSUER], 'k1', 'ES256')).resolves.toMatchObject({ kid: 'k1' });
      expect(fetches).toEqual([MIRROR, ISSUER]);
    });

    it('falls back to the issuer for a key it signs with as soon as it publishes it', async () => {
      const { store, served, fetches } = chain();
      await store.prefetch([MIRROR, ISSUER]);
      served[ISSUER] = { keys: [k1.publicJwk, k2.publicJwk] };
      await expect(store.getKey([MIRROR, ISSUER], 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
      expect(fetches).toEqual([MIRROR, MIRROR, ISSUER]);
      // Held from the issuer now: no more fetches.
      await expect(store.getKey([MIRROR, ISSUER], 'k2', 'ES256')).resolves.toMatchObject({ kid: 'k2' });
      expect(fetches).toHaveLength(3);
    });

    it('bounds the fallback by the same rate limits: invented kids reach the issuer once per interval', async () => {
      const { store, fetches, advance } = chain();
      await store.prefetch([MIRROR, ISSUER]);
      for (let i = 0; i < 600; i++) {
        await expect(store.getKey([MIRROR, ISSUER], `invented-${i}`, 'ES256')).rejects.toMatchObject({
          reason: 'invalid_token.unknown_kid',
        });
        advance(100);
      }
      expect(fetches.filter((u) => u === ISSUER).length).toBeLessThanOrEqual(7);
      expect(fetches.filter((u) => u === MIRROR).length).toBeLessThanOrEqual(8);
    });

    it('fails closed (keys unavailable, not unknown kid) when the mirror lacks the kid and the issuer is down', async () => {
      const { store, served } = chain();
      await store.prefetch([MIRROR, ISSUER]);
      served[ISSUER] = { status: 503 };
      await expect(store.getKey([MIRROR, ISSUER], 'k2', 'ES256')).rejects.toBeInstanceOf(KeysUnavailableError);
    });
  });
  it('picks, among keys sharing a kid, the one bound to the token alg', async () => {
    const rsa = makeKey('RS256', 'same');
    const ec = makeKey('ES256', 'same');
    const { store } = setup([rsa.publicJwk, ec.publicJwk]);
    await expect(store.getKey(URI, 'same', 'ES256')).resolves.toMatchObject({ alg: 'ES256' });
    await expect(store.getKey(URI, 'same', 'RS256')).resolves.toMatchObject({ alg: 'RS256' });
  });

  it('ignores encryption keys and symmetric keys', async () => {
    const enc = { ...k1.publicJwk, use: 'enc' };
    const oct = { kty: 'oct', kid: 'k2', k: 'c2VjcmV0' };
    const { store } = setup([enc, oct]);
    await expect(store.getKey(URI, 'k1', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.key_mismatch' });
    await expect(store.getKey(URI, 'k2', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.key_mismatch' });
  });
});
