/**
 * The shared-fetch state machine of every value the authorizer fetches and keeps: an
 * issuer's key set (`key-store.ts`), the key set URL discovery finds (`discovery.ts`) and the
 * credentials introspection authenticates with (`introspection.ts`).
 *
 * States and moves, for one value:
 * - **Nothing held**: the first {@link Refresher.refresh} starts the fetch; every caller that
 *   asks while it runs shares it (single flight).
 * - **A fetch settles**: on success its value is held and its time kept (`fetchedAt`); on
 *   failure the held value, if any, stays (stale-if-error) and the error is kept until the next
 *   success. Either way the attempt's end is kept: intervals run from the end of an attempt, so
 *   a caller that waited for a failing fetch does not start another one at once.
 * - **Back-off**: after a failed attempt, no new one for `retryMs` while nothing is held, or
 *   `intervalMs` while a value is held ({@link Refresher.mayFetch}).
 * - **Penalty box**: a fetch made for something the value should contain, and that did not
 *   find it, bars further such fetches for `intervalMs` (aws-jwt-verify's penalty box, started
 *   only by a miss, never by a plain fetch).
 * - **Stale**: a value older than `maxAgeMs` is still served while a background refresh runs
 *   ({@link Refresher.refreshIfStale}), at most one per `intervalMs` while it fails.
 *
 * The refresher never rejects and never decides what a failure means: each caller fails
 * closed in its own terms (a key set that cannot be had is a 5xx, never an Allow nor a 401).
 * What is not here, by design: introspection *answers* are never served stale (a revoked token
 * must stop working), so they are cached by expiry alone and share only in-flight calls
 * ({@link sharedCall}).
 */

/** The intervals of a {@link Refresher}, in milliseconds; passed on each call, so a reloaded configuration applies at once. */
export interface RefreshPolicy {
  /** A held value older than this is refreshed in the background. */
  readonly maxAgeMs: number;
  /** While nothing is held, no new attempt sooner than this after a failed one. */
  readonly retryMs: number;
  /**
   * While a value is held, no new attempt sooner than this after a failed one, and no
   * background refresh sooner than this after any attempt; also the penalty box's length.
   */
  readonly intervalMs: number;
}

/** What {@link RefresherOptions.onSettled} is told of each fetch. */
export interface RefreshOutcome {
  ok: boolean;
  /** The fetch's duration, start to settlement, in milliseconds of the refresher's clock. */
  ms: number;
  error?: unknown;
}

/** Options of {@link Refresher}. */
export interface RefresherOptions {
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Told of every fetch once it settles, before any caller waiting for it resumes. */
  onSettled?: (outcome: RefreshOutcome) => void;
}

/**
 * One fetched value, kept (see the module's documentation for its states). `load` fetches
 * and checks it: a rejection, or a value it refuses by throwing, never replaces the held one.
 */
export class Refresher<T> {
  /**
   * The last value fetched successfully, or `undefined` while none was. Its owner may replace
   * a held value it judges anew (the key store, on a reloaded configuration); that is no fetch.
   */
  value: T | undefined;
  /** The error of the last attempt; `undefined` once an attempt succeeds. */
  lastError: unknown;
  /** The fetch under way, shared by every caller, or `undefined`. Never rejects. */
  pending: Promise<void> | undefined;
  private fetchedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private missedAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly options: RefresherOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Fetch now, or join the fetch under way. `missed` says whether a fetched value lacks what
   * this fetch was made for: if so, the penalty box starts (see {@link mayFetch}).
   */
  refresh(missed?: (value: T) => boolean): Promise<void> {
    if (this.pending !== undefined) return this.pending;
    const started = this.now();
    const run = async (): Promise<void> => {
      let outcome: RefreshOutcome;
      try {
        const value = await this.load();
        const at = this.now();
        this.value = value;
        this.fetchedAt = at;
        this.lastError = undefined;
        if (missed?.(value)) this.missedAt = at;
        outcome = { ok: true, ms: at - started };
      } catch (error) {
        this.lastError = error;
        outcome = { ok: false, ms: this.now() - started, error };
      }
      this.lastAttemptAt = this.now();
      this.pending = undefined;
      this.options.onSettled?.(outcome);
    };
    this.pending = run();
    return this.pending;
  }

  /**
   * Whether a caller that needs something the held value lacks may fetch now: not inside the
   * penalty box, and not within the back-off after a failed attempt (`retryMs` while nothing
   * is held, `intervalMs` while a value is).
   */
  mayFetch(now: number, policy: RefreshPolicy): boolean {
    if (now - this.missedAt < policy.intervalMs) return false;
    if (this.lastError === undefined) return true;
    return now - this.lastAttemptAt >= (this.value === undefined ? policy.retryMs : policy.intervalMs);
  }

  /**
   * Start a background refresh when the value is older than `maxAgeMs` and no attempt ended
   * within `intervalMs` (none already under way); the held value keeps being served meanwhile.
   * Allocates nothing when there is nothing to do (the hot path calls it on every request).
   */
  refreshIfStale(now: number, policy: RefreshPolicy): void {
    if (this.pending !== undefined || now - this.fetchedAt <= policy.maxAgeMs) return;
    if (now - this.lastAttemptAt < policy.intervalMs) return;
    void this.refresh();
  }
}

/**
 * Single flight by key: the call under way for `key`, or `start()` made the call under way
 * until it settles. Callers share its result, rejection included; nothing is kept after it.
 */
export function sharedCall<K, V>(inflight: Map<K, Promise<V>>, key: K, start: () => Promise<V>): Promise<V> {
  let pending = inflight.get(key);
  if (pending === undefined) {
    pending = start().finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}
