import { KeysUnavailableError } from '../../core/errors';
import { discoveryUrl, jwksUriFromDiscovery } from '../../core/oidc-discovery';
import { type HttpGetOptions, httpGetJson } from '../shared/http';
import { Refresher, type RefreshPolicy } from '../shared/refresher';

/** Fetches a JSON document; injected so tests and other transports can stand in. */
export interface JsonFetcher {
  /** Resolve to the parsed JSON body, or reject. */
  fetch(url: string): Promise<unknown>;
}

/** The default fetcher: HTTPS with a deadline and a body cap, no redirects (see `httpGet`). */
export class HttpsJsonFetcher implements JsonFetcher {
  constructor(private readonly options: HttpGetOptions = {}) {}
  async fetch(url: string): Promise<unknown> {
    return (await httpGetJson(url, this.options)).json;
  }
}

/** Options of {@link JwksUriResolver}. */
export interface JwksUriResolverOptions {
  fetcher: JsonFetcher;
  /** Refresh a discovered URI after this many milliseconds (kept if the refresh fails). Default 3600000. */
  maxAgeMs?: number;
  /** After a failed discovery, try again after this many milliseconds at the earliest. Default 1000. */
  retryMs?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * Resolves the key set URL of issuers configured without `jwksUri`, by OIDC discovery,
 * with the key store's state machine ({@link Refresher}): one fetch shared by concurrent
 * requests, a bounded fetch (the fetcher's deadline and body cap), the answer cached for
 * `maxAgeMs` and kept when a refresh fails, and a failed discovery retried at most once per
 * `retryMs`. When nothing can be had, it fails closed with a {@link KeysUnavailableError}
 * (a 5xx), never a 401. As with the key store, a held URI is answered at once, even while its
 * refresh runs.
 */
export class JwksUriResolver {
  private readonly entries = new Map<string, Refresher<string>>();
  private readonly fetcher: JsonFetcher;
  private readonly policy: RefreshPolicy;
  private readonly now: () => number;

  constructor(options: JwksUriResolverOptions) {
    this.fetcher = options.fetcher;
    const retryMs = options.retryMs ?? 1000;
    this.policy = { maxAgeMs: options.maxAgeMs ?? 3_600_000, retryMs, intervalMs: retryMs };
    this.now = options.now ?? Date.now;
  }

  private entry(issuer: string): Refresher<string> {
    let entry = this.entries.get(issuer);
    if (entry === undefined) {
      entry = new Refresher(async () => jwksUriFromDiscovery(await this.fetcher.fetch(discoveryUrl(issuer)), issuer), { now: this.now });
      this.entries.set(issuer, entry);
    }
    return entry;
  }

  /** Start discovering an issuer's key set URL (at cold start); never rejects. */
  prefetch(issuer: string): Promise<void> {
    const entry = this.entry(issuer);
    return entry.value === undefined ? entry.refresh() : Promise.resolve();
  }

  /**
   * The issuer's discovered key set URL when one is held, without waiting (a stale one is
   * refreshed in the background, as by {@link jwksUri}); `undefined` when none is held yet.
   * The hot path: no promise, no allocation.
   */
  held(issuer: string): string | undefined {
    const entry = this.entries.get(issuer);
    if (entry?.value === undefined) return undefined;
    entry.refreshIfStale(this.now(), this.policy);
    return entry.value;
  }

  /** The issuer's key set URL, discovered; rejects with {@link KeysUnavailableError} when discovery fails and none is held. */
  async jwksUri(issuer: string): Promise<string> {
    const entry = this.entry(issuer);
    // Nothing held: wait for the discovery under way, or discover now (at most once per
    // retryMs while it fails). Held: answer with it, never waiting for a refresh (a hanging
    // issuer adds no latency), and refresh it in the background when stale.
    if (entry.value === undefined) {
      if (entry.pending) await entry.pending;
      if (entry.value === undefined && entry.mayFetch(this.now(), this.policy)) await entry.refresh();
    } else entry.refreshIfStale(this.now(), this.policy);
    if (entry.value === undefined) {
      const cause = entry.lastError;
      throw new KeysUnavailableError(
        discoveryUrl(issuer),
        `OIDC discovery of ${issuer} failed: ${cause instanceof Error ? cause.message : String(cause)}`.slice(0, 300),
        { cause },
      );
    }
    return entry.value;
  }
}
