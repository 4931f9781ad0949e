import type { KeyObject } from 'node:crypto';
import { InvalidTokenError, KeysUnavailableError } from '../../core/errors';
import {
  DEFAULT_MIN_RSA_BITS,
  type InspectedKey,
  inspectJwk,
  pickMembers,
  readKeySet,
  type SignatureAlgorithm,
} from '../../core/jwk-rules';
import { DISCOVERY_SUFFIX, jwksUriFromDiscovery } from '../../core/oidc-discovery';
import { Reason } from '../../core/reasons';
import { type HttpGetOptions, httpGetJson } from '../shared/http';
import { Refresher, type RefreshOutcome, type RefreshPolicy } from '../shared/refresher';

/** Fetches a key set document; injected so tests and other transports can stand in. */
export interface JwksFetcher {
  /** Resolve to the parsed JSON body, or reject. */
  fetch(jwksUri: string): Promise<unknown>;
}

/**
 * The default fetcher: HTTPS with a deadline and a body cap (see {@link httpGet}). A
 * location ending in {@link DISCOVERY_SUFFIX} is an issuer's discovery document (a fallback
 * source behind a mirror): it is checked as {@link jwksUriFromDiscovery} does (its `issuer`
 * must be the one it was read from, its `jwks_uri` https), then its key set is fetched.
 */
export class HttpsJwksFetcher implements JwksFetcher {
  constructor(private readonly options: HttpGetOptions = {}) {}
  async fetch(jwksUri: string): Promise<unknown> {
    if (!jwksUri.endsWith(DISCOVERY_SUFFIX)) return (await httpGetJson(jwksUri, this.options)).json;
    const issuer = jwksUri.slice(0, -DISCOVERY_SUFFIX.length);
    const doc = (await httpGetJson(jwksUri, this.options)).json;
    // discoveryUrl() drops an issuer's trailing slash; both spellings lead here.
    const named = (doc as { issuer?: unknown } | null)?.issuer;
    const keys = jwksUriFromDiscovery(doc, named === `${issuer}/` ? named : issuer);
    return (await httpGetJson(keys, this.options)).json;
  }
}

/** A key ready for verification. */
export interface VerificationKey {
  kid: string;
  alg: SignatureAlgorithm;
  keyObject: KeyObject;
  /** The public JWK, with `alg` set to the bound algorithm, as aws-jwt-verify takes it. */
  jwk: Record<string, unknown>;
}

/**
 * Where an issuer's keys are read: one key set URL, or an ordered list of them (the JWKS
 * mirror first, then the issuer's own key set or discovery document). Lists are read in
 * order; a later one is fetched only when the earlier ones are unavailable or lack the
 * `kid` asked for, each under its own rate limits.
 */
export type KeySources = string | readonly string[];

/** The settings of {@link KeyStore} that a reloaded configuration may change (see {@link KeyStore.configure}). */
export interface KeyStoreSettings {
  fetcher: JwksFetcher;
  /** Smallest RSA key accepted, in bits. Default 2048. */
  minRsaBits?: number;
  /**
   * After a refetch that did not find a `kid` asked for, or a failed fetch, no refetch of
   * that key set for this many milliseconds. Default 10000.
   */
  minRefetchIntervalMs?: number;
  /** Held keys older than this are refreshed in the background, in milliseconds. Default 3600000. */
  maxAgeMs?: number;
  /** While no keys are held, retry a failed fetch after this many milliseconds. Default 1000. */
  retryWithoutKeysMs?: number;
}

/** Options of {@link KeyStore}. */
export interface KeyStoreOptions extends KeyStoreSettings {
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Told of every fetch, for metrics and tests. */
  onFetch?: (event: { jwksUri: string; ok: boolean; ms: number; error?: unknown }) => void;
}

/** A key set as fetched: the JWKs (kept to judge them again when `minRsaBits` changes) and the usable keys by `kid`. */
interface KeySet {
  raw: unknown[];
  keys: Map<string, InspectedKey[]>;
}

/**
 * The in-memory cache of issuers' signing keys, one {@link Refresher} per key set URL.
 *
 * - Concurrent requests for the same key set share one fetch.
 * - An unknown `kid` triggers a refetch, even right after a successful fetch (a rotated
 *   key is found at once). Only a refetch that did not find the `kid`, or a failed fetch,
 *   puts the key set in a penalty box for `minRefetchIntervalMs` (as aws-jwt-verify's
 *   penalty box does), so a flood of invented `kid`s costs a handful of fetches.
 * - Held keys older than `maxAgeMs` are served while a background refresh runs (at most
 *   one per `minRefetchIntervalMs` while it fails): a hanging endpoint adds no latency to
 *   requests whose key is held.
 * - Keys held are kept when a refetch fails (stale-if-error); only a token whose key was
 *   never obtained fails with {@link KeysUnavailableError}.
 * - An empty or invalid key set never replaces held keys.
 * - {@link configure} applies a reloaded configuration: held keys are judged again.
 */
export class KeyStore {
  private readonly sets = new Map<string, Refresher<KeySet>>();
  private fetcher!: JwksFetcher;
  private minRsaBits = DEFAULT_MIN_RSA_BITS;
  private policy: RefreshPolicy = { maxAgeMs: 3_600_000, retryMs: 1000, intervalMs: 10_000 };
  private readonly now: () => number;
  private readonly onFetch: KeyStoreOptions['onFetch'];
  private readonly ready = new WeakMap<InspectedKey, VerificationKey>();

  constructor(options: KeyStoreOptions) {
    this.now = options.now ?? Date.now;
    this.onFetch = options.onFetch;
    this.configure(options);
  }

  /**
   * Apply settings of a reloaded configuration. Held keys stay (no refetch storm on a
   * reload), but are judged again when `minRsaBits` changed, so a warm instance refuses a
   * key the new configuration calls weak.
   */
  configure(settings: KeyStoreSettings): void {
    const minRsaBits = settings.minRsaBits ?? DEFAULT_MIN_RSA_BITS;
    const rejudge = this.fetcher !== undefined && minRsaBits !== this.minRsaBits;
    this.fetcher = settings.fetcher;
    this.minRsaBits = minRsaBits;
    this.policy = {
      maxAgeMs: settings.maxAgeMs ?? 3_600_000,
      retryMs: settings.retryWithoutKeysMs ?? 1000,
      intervalMs: settings.minRefetchIntervalMs ?? 10_000,
    };
    if (!rejudge) return;
    for (const set of this.sets.values()) {
      if (set.value !== undefined) set.value = { raw: set.value.raw, keys: this.judge(set.value.raw) };
    }
  }

  private state(jwksUri: string): Refresher<KeySet> {
    let state = this.sets.get(jwksUri);
    if (state === undefined) {
      const onSettled = this.onFetch && ((outcome: RefreshOutcome) => this.onFetch?.({ jwksUri, ...outcome }));
      state = new Refresher(() => this.load(jwksUri), { now: this.now, onSettled });
      this.sets.set(jwksUri, state);
    }
    return state;
  }

  /**
   * Start fetching an issuer's keys (at cold start): the first source, and the next ones
   * only while the earlier ones yield no keys. Never rejects.
   */
  async prefetch(sources: KeySources): Promise<void> {
    const list = typeof sources === 'string' ? [sources] : sources;
    for (const uri of list) {
      const state = this.state(uri);
      await state.refresh();
      if (state.value !== undefined) return;
    }
  }

  /** Whether any keys are held for these sources. */
  hasKeys(sources: KeySources): boolean {
    if (typeof sources === 'string') return this.sets.get(sources)?.value !== undefined;
    return sources.some((uri) => this.sets.get(uri)?.value !== undefined);
  }

  /** Fetch and judge a key set; an empty or invalid one is a failed fetch (it never replaces held keys). */
  private async load(jwksUri: string): Promise<KeySet> {
    const raw = readKeySet(await this.fetcher.fetch(jwksUri));
    const keys = this.judge(raw);
    if (keys.size === 0) throw new Error('the key set holds no key with a kid');
    return { raw, keys };
  }

  private judge(raw: unknown[]): Map<string, InspectedKey[]> {
    const keys = new Map<string, InspectedKey[]>();
    for (const item of raw) {
      const key = inspectJwk(item, this.minRsaBits);
      if (key.kid === undefined) continue;
      const list = keys.get(key.kid) ?? [];
      list.push(key);
      keys.set(key.kid, list);
    }
    return keys;
  }

  /** The held keys for `kid` in one source, refreshing them in the background when old. */
  private held(jwksUri: string, kid: string, now: number): InspectedKey[] | undefined {
    const state = this.sets.get(jwksUri);
    const candidates = state?.value?.keys.get(kid);
    if (state !== undefined && candidates !== undefined) state.refreshIfStale(now, this.policy);
    return candidates;
  }

  /** Look for `kid` in one source, fetching it when allowed (a fetch that misses it starts the penalty box). */
  private async fetched(jwksUri: string, kid: string): Promise<InspectedKey[] | undefined> {
    const state = this.state(jwksUri);
    if (state.pending) {
      await state.pending;
      const candidates = state.value?.keys.get(kid);
      if (candidates !== undefined) return candidates;
    }
    if (!state.mayFetch(this.now(), this.policy)) return undefined;
    await state.refresh((set) => !set.keys.has(kid));
    return state.value?.keys.get(kid);
  }

  /**
   * The key to verify a token with `kid` and `alg`. Rejects with {@link InvalidTokenError}
   * (`unknown_kid`, `weak_key`, `key_mismatch`) when the key sets answer but have no usable
   * key for it, and with {@link KeysUnavailableError} when a key set that might have it
   * cannot be had.
   */
  async getKey(sources: KeySources, kid: string, alg: SignatureAlgorithm): Promise<VerificationKey> {
    return this.heldKey(sources, kid, alg) ?? this.fetchKey(sources, kid, alg);
  }

  /**
   * The key for `kid` and `alg` when one of the sources holds `kid`, without waiting (the hot
   * path: no allocation, no promise); `undefined` when none does, and {@link getKey} must
   * fetch. Throws {@link InvalidTokenError} (`weak_key`, `key_mismatch`) when the held
   * candidates have no usable key for it.
   */
  heldKey(sources: KeySources, kid: string, alg: SignatureAlgorithm): VerificationKey | undefined {
    const now = this.now();
    if (typeof sources === 'string') {
      const candidates = this.held(sources, kid, now);
      return candidates === undefined ? undefined : this.choose(candidates, kid, alg);
    }
    for (let i = 0; i < sources.length; i++) {
      const candidates = this.held(sources[i] as string, kid, now);
      if (candidates !== undefined) return this.choose(candidates, kid, alg);
    }
    return undefined;
  }

  /** {@link getKey} when no source holds `kid`: fetch the sources in order, as allowed. */
  private async fetchKey(sources: KeySources, kid: string, alg: SignatureAlgorithm): Promise<VerificationKey> {
    const list = typeof sources === 'string' ? [sources] : sources;
    for (const uri of list) {
      const candidates = await this.fetched(uri, kid);
      if (candidates !== undefined) return this.choose(candidates, kid, alg);
    }
    // Unknown only when every source answered its last fetch without it; else it may be in
    // a key set we could not read, which is a 5xx, not a 401.
    const unavailable = list.find((uri) => {
      const state = this.sets.get(uri);
      return state?.value === undefined || state.lastError !== undefined;
    });
    if (unavailable !== undefined) {
      throw new KeysUnavailableError(unavailable, `no key ${kid} held and the key set could not be fetched`, {
        cause: this.sets.get(unavailable)?.lastError,
      });
    }
    throw new InvalidTokenError(Reason.UnknownKid, `kid ${kid} is not in the key set`);
  }

  private choose(candidates: InspectedKey[], kid: string, alg: SignatureAlgorithm): VerificationKey {
    const key = candidates.find((k) => k.alg === alg && k.problems.length === 0);
    if (key === undefined) {
      if (candidates.some((k) => k.problems.includes('weak_key'))) {
        throw new InvalidTokenError(Reason.WeakKey, `key ${kid} is weaker than ${this.minRsaBits} bits`);
      }
      throw new InvalidTokenError(Reason.KeyMismatch, `key ${kid} is not a usable ${alg} signing key`);
    }
    return this.prepare(key);
  }

  private prepare(key: InspectedKey): VerificationKey {
    let ready = this.ready.get(key);
    if (ready === undefined) {
      const jwk: Record<string, unknown> = { alg: key.alg, use: 'sig', kid: key.kid, ...pickMembers(key.jwk) };
      ready = { kid: key.kid as string, alg: key.alg as SignatureAlgorithm, keyObject: key.keyObject as KeyObject, jwk };
      this.ready.set(key, ready);
    }
    return ready;
  }
}
