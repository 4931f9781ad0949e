import { KeyStore } from '../../../functions/authorizer/key-store';
import { InvalidTokenError, KeysUnavailableError } from '../../../functions/shared/errors';
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

  it('refreshes keys older than maxAge, dropping a key the issuer withdrew', async () => {
    const { store, state, advance } = setup([k1.publicJwk, k2.publicJwk]);
    await store.getKey(URI, 'k1', 'ES256');
    state.keys = [k2.publicJwk];
    advance(3_700_000);
    await expect(store.getKey(URI, 'k1', 'ES256')).rejects.toMatchObject({ reason: 'invalid_token.unknown_kid' });
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
