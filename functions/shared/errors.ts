import type { InvalidTokenReason } from './reasons';

/** Root of every error scopegate raises on purpose. */
export class ScopegateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScopegateError';
  }
}

/** The bearer token is not acceptable; the authorizer answers 401. */
export class InvalidTokenError extends ScopegateError {
  constructor(
    readonly reason: InvalidTokenReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InvalidTokenError';
  }
}

/** No signing keys could be had for a token (fetch failed, timed out, or the key set is invalid). */
export class KeysUnavailableError extends ScopegateError {
  constructor(
    readonly jwksUri: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KeysUnavailableError';
  }
}

/** The introspection endpoint did not answer in time, or not with JSON. */
export class IntrospectionUnavailableError extends ScopegateError {
  constructor(
    readonly endpoint: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IntrospectionUnavailableError';
  }
}

/** The configuration is invalid; `field` names the offending path, e.g. `issuers[0].audience`. */
export class ConfigError extends ScopegateError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** An HTTP fetch failed: network error, timeout, status, size cap, or content. */
export class FetchError extends ScopegateError {
  constructor(
    readonly url: string,
    readonly kind: 'network' | 'timeout' | 'status' | 'too_large' | 'redirect' | 'content',
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options);
    this.name = 'FetchError';
    this.status = options?.status;
  }
  readonly status: number | undefined;
}
