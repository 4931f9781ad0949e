import type { KeyObject } from 'node:crypto';
import { InvalidTokenError, KeysUnavailableError } from '../shared/errors';
import { type HttpGetOptions, httpGetJson } from '../shared/http';
import { DEFAULT_MIN_RSA_BITS, type InspectedKey, inspectJwk, pickMembers, readKeySet, type SignatureAlgorithm } from '../shared/jwk-rules';
import { Reason } from '../shared/reasons';

/** Fetches a key set document; injected so tests and other transports can stand in. */
export interface JwksFetcher {
  /** Resolve to the parsed JSON body, or reject. */
  fetch(jwksUri: string): Promise<unknown>;
}

/** The default fetcher: HTTPS with a deadline and a body cap (see {@link httpGet}). */
export class HttpsJwksFetcher implements JwksFetcher {
  constructor(private readonly options: HttpGetOptions = {}) {}
  async fetch(jwksUri: string): Promise<unknown> {
    return (await httpGetJson(jwksUri, this.options)).json;
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

/** Options of {@link KeyStore}. */
export interface KeyStoreOptions {
  fetcher: JwksFetcher;
  /** Smallest RSA key accepted, in bits. Default 2048. */
  minRsaBits?: number;
  /** At most one unknown-`kid` refetch per key set in this many milliseconds. Default 10000. */
  minRefetchIntervalMs?: number;
  /** Refresh held keys older than this, in milliseconds. Default 3600000. */
  maxAgeMs?: number;
  /** While no keys are held, retry a failed fetch after this many milliseconds. Default 1000. */
  retryWithoutKeysMs?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Told of every fetch, for metrics and tests. */
  onFetch?: (event: { jwksUri: string; ok: boolean; ms: number; error?: unknown }) => void;
}

interface KeySetState {
  keys: Map<string, InspectedKey[]> | undefined;
  fetchedAt: number;
  lastAttemptAt: number;
  lastError: unknown;
  inflight: Promise<void> | undefined;
}

/**
 * The in-memory cache of issuers' signing keys.
 *
 * - Concurrent requests for the same key set share one fetch.
 * - An unknown `kid` triggers one refetch, at most once per `minRefetchIntervalMs`, so a
 *   flood of invented `kid`s costs a handful of fetches while a rotated key is picked up
 *   within that interval.
 * - Keys held are kept when a refetch fails (stale-if-error); only a token whose key was
 *   never obtained fails with {@link KeysUnavailableError}.
 * - An empty or invalid key set never replaces held keys.
 */
export class KeyStore {
  private readonly sets = new Map<string, KeySetState>();
  private readonly fetcher: JwksFetcher;
  private readonly minRsaBits: number;
  private readonly minRefetchIntervalMs: number;
  private readonly maxAgeMs: number;
  private readonly retryWithoutKeysMs: number;
  private readonly now: () => number;
  private readonly onFetch: KeyStoreOptions['onFetch'];
  private readonly ready = new WeakMap<InspectedKey, VerificationKey>();

  constructor(options: KeyStoreOptions) {
    this.fetcher = options.fetcher;
    this.minRsaBits = options.minRsaBits ?? DEFAULT_MIN_RSA_BITS;
    this.minRefetchIntervalMs = options.minRefetchIntervalMs ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 3_600_000;
    this.retryWithoutKeysMs = options.retryWithoutKeysMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.onFetch = options.onFetch;
  }

  private state(jwksUri: string): KeySetState {
    let state = this.sets.get(jwksUri);
    if (state === undefined) {
      state = { keys: undefined, fetchedAt: 0, lastAttemptAt: Number.NEGATIVE_INFINITY, lastError: undefined, inflight: undefined };
      this.sets.set(jwksUri, state);
    }
    return state;
  }

  /** Start fetching a key set (at cold start); never rejects. */
  prefetch(jwksUri: string): Promise<void> {
    return this.refresh(this.state(jwksUri), jwksUri);
  }

  /** Whether any keys are held for this key set. */
  hasKeys(jwksUri: string): boolean {
    return this.sets.get(jwksUri)?.keys !== undefined;
  }

  private refresh(state: KeySetState, jwksUri: string): Promise<void> {
    if (state.inflight) return state.inflight;
    const started = this.now();
    state.lastAttemptAt = started;
    const run = async () => {
      try {
        const json = await this.fetcher.fetch(jwksUri);
        const keys = new Map<string, InspectedKey[]>();
        for (const raw of readKeySet(json)) {
          const key = inspectJwk(raw, this.minRsaBits);
          if (key.kid === undefined) continue;
          const list = keys.get(key.kid) ?? [];
          list.push(key);
          keys.set(key.kid, list);
        }
        if (keys.size === 0) throw new Error('the key set holds no key with a kid');
        state.keys = keys;
        state.fetchedAt = this.now();
        state.lastError = undefined;
        this.onFetch?.({ jwksUri, ok: true, ms: this.now() - started });
      } catch (error) {
        state.lastError = error;
        this.onFetch?.({ jwksUri, ok: false, ms: this.now() - started, error });
      } finally {
        // Intervals run from the end of an attempt: a request that waited for a failing
        // fetch does not start another one straight away.
        state.lastAttemptAt = this.now();
        state.inflight = undefined;
      }
    };
    state.inflight = run();
    return state.inflight;
  }

  /**
   * The key to verify a token with `kid` and `alg`. Rejects with {@link InvalidTokenError}
   * (`unknown_kid`, `weak_key`, `key_mismatch`) when the key set answers but has no usable
   * key for it, and with {@link KeysUnavailableError} when the key set cannot be had.
   */
  async getKey(jwksUri: string, kid: string, alg: SignatureAlgorithm): Promise<VerificationKey> {
    const state = this.state(jwksUri);
    const now = this.now();
    if (state.inflight) await state.inflight;
    else if (state.keys !== undefined && now - state.fetchedAt > this.maxAgeMs) await this.refresh(state, jwksUri);
    let candidates = state.keys?.get(kid);
    if (candidates === undefined) {
      const wait = state.keys === undefined ? this.retryWithoutKeysMs : this.minRefetchIntervalMs;
      if (state.inflight) await state.inflight;
      else if (this.now() - state.lastAttemptAt >= wait) await this.refresh(state, jwksUri);
      candidates = state.keys?.get(kid);
    }
    if (candidates === undefined) {
      if (state.keys === undefined || state.lastError !== undefined) {
        throw new KeysUnavailableError(jwksUri, `no key ${kid} held and the key set could not be fetched`, { cause: state.lastError });
      }
      throw new InvalidTokenError(Reason.UnknownKid, `kid ${kid} is not in the key set`);
    }
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
