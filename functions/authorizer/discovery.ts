import { KeysUnavailableError } from '../../core/errors';
import { type HttpGetOptions, httpGetJson } from '../shared/http';
import { discoveryUrl, jwksUriFromDiscovery } from '../shared/oidc-discovery';

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

interface Entry {
  jwksUri: string | undefined;
  fetchedAt: number;
  lastAttemptAt: number;
  lastError: unknown;
  inflight: Promise<void> | undefined;
}

/**
 * Resolves the key set URL of issuers configured without `jwksUri`, by OIDC discovery,
 * with the key store's rules: one fetch shared by concurrent requests, a bounded fetch
 * (the fetcher's deadline and body cap), the answer cached for `maxAgeMs` and kept when a
 * refresh fails, and a failed first discovery retried at most once per `retryMs`. When
 * nothing can be had, it fails closed with a {@link KeysUnavailableError} (a 5xx), never a 401.
 */
export class JwksUriResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly fetcher: JsonFetcher;
  private readonly maxAgeMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;

  constructor(options: JwksUriResolverOptions) {
    this.fetcher = options.fetcher;
    this.maxAgeMs = options.maxAgeMs ?? 3_600_000;
    this.retryMs = options.retryMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  private entry(issuer: string): Entry {
    let entry = this.entries.get(issuer);
    if (entry === undefined) {
      entry = { jwksUri: undefined, fetchedAt: 0, lastAttemptAt: Number.NEGATIVE_INFINITY, lastError: undefined, inflight: undefined };
      this.entries.set(issuer, entry);
    }
    return entry;
  }

  private refresh(entry: Entry, issuer: string): Promise<void> {
    if (entry.inflight) return entry.inflight;
    entry.lastAttemptAt = this.now();
    const run = async () => {
      try {
        entry.jwksUri = jwksUriFromDiscovery(await this.fetcher.fetch(discoveryUrl(issuer)), issuer);
        entry.fetchedAt = this.now();
        entry.lastError = undefined;
      } catch (error) {
        entry.lastError = error;
      } finally {
        entry.lastAttemptAt = this.now();
        entry.inflight = undefined;
      }
    };
    entry.inflight = run();
    return entry.inflight;
  }

  /** Start discovering an issuer's key set URL (at cold start); never rejects. */
  prefetch(issuer: string): Promise<void> {
    const entry = this.entry(issuer);
    return entry.jwksUri === undefined ? this.refresh(entry, issuer) : Promise.resolve();
  }

  /**
   * The issuer's discovered key set URL when one is held, without waiting (a stale one is
   * refreshed in the background, as by {@link jwksUri}); `undefined` when none is held yet.
   * The hot path: no promise, no allocation.
   */
  held(issuer: string): string | undefined {
    const entry = this.entries.get(issuer);
    if (entry?.jwksUri === undefined || entry.inflight !== undefined) return undefined;
    const now = this.now();
    if (now - entry.fetchedAt > this.maxAgeMs && now - entry.lastAttemptAt >= this.retryMs) void this.refresh(entry, issuer);
    return entry.jwksUri;
  }

  /** The issuer's key set URL, discovered; rejects with {@link KeysUnavailableError} when discovery fails and none is held. */
  async jwksUri(issuer: string): Promise<string> {
    const entry = this.entry(issuer);
    if (entry.inflight) await entry.inflight;
    if (entry.jwksUri === undefined) {
      if (this.now() - entry.lastAttemptAt >= this.retryMs) await this.refresh(entry, issuer);
    } else if (this.now() - entry.fetchedAt > this.maxAgeMs && this.now() - entry.lastAttemptAt >= this.retryMs) {
      // Stale: refresh in the background (at most once per retryMs while the issuer fails),
      // and keep answering with the held URI meanwhile.
      void this.refresh(entry, issuer);
    }
    if (entry.jwksUri === undefined) {
      const cause = entry.lastError;
      throw new KeysUnavailableError(
        discoveryUrl(issuer),
        `OIDC discovery of ${issuer} failed: ${cause instanceof Error ? cause.message : String(cause)}`.slice(0, 300),
        { cause },
      );
    }
    return entry.jwksUri;
  }
}
