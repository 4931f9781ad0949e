import { type InvalidTokenReason, Reason, type ReasonCode } from './reasons';

/**
 * Root of every error scopegate raises on purpose. Each subclass carries a stable
 * {@link ReasonCode} (as jose's errors carry `code`): the authorizer turns any error into a
 * decision by its `reason` alone ({@link reasonOf}), never by its class.
 */
export abstract class ScopegateError extends Error {
  /** The reason code of the outcome this error decides, as logged and counted. */
  abstract readonly reason: ReasonCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScopegateError';
  }
}

/**
 * The bearer token is not acceptable; the authorizer answers 401. Made without a stack trace:
 * a 401 is decided by its reason and logged by its message, and capturing the stack would
 * cost every rejected token (a flood of bad tokens is the path an attacker chooses) for
 * nothing anyone reads.
 */
export class InvalidTokenError extends ScopegateError {
  readonly reason: InvalidTokenReason;

  constructor(reason: InvalidTokenReason, message: string, options?: { cause?: unknown }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.reason = reason;
    this.name = 'InvalidTokenError';
  }
}

/** No signing keys could be had for a token (fetch failed, timed out, or the key set is invalid); a 500. */
export class KeysUnavailableError extends ScopegateError {
  readonly reason = Reason.KeysUnavailable;

  constructor(
    readonly jwksUri: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KeysUnavailableError';
  }
}

/** The introspection endpoint did not answer in time, or not with JSON; a 500. */
export class IntrospectionUnavailableError extends ScopegateError {
  readonly reason = Reason.IntrospectionUnavailable;

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
  readonly reason = Reason.ConfigUnavailable;

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

/**
 * Every error of one configuration source found in one pass (a `cdk.json` environment, a route
 * table file, the `Scopegate` construct's props), so that one run reports them all.
 */
export class ConfigErrors extends ScopegateError {
  readonly reason = Reason.ConfigUnavailable;

  constructor(
    readonly subject: string,
    readonly errors: readonly ConfigError[],
  ) {
    super(
      `${subject}: ${errors.length === 1 ? '1 error' : `${errors.length} errors`}\n${errors.map((e) => `  - ${e.message}`).join('\n')}`,
    );
    this.name = 'ConfigErrors';
  }
}

/**
 * API Gateway sent an event the authorizer cannot read (a method or route ARN that is not
 * execute-api's). Not the caller's fault: a 500 (`internal_error`), never a policy.
 */
export class MalformedEventError extends ScopegateError {
  readonly reason = Reason.Internal;

  constructor(message: string) {
    super(message);
    this.name = 'MalformedEventError';
  }
}

/**
 * An HTTP fetch failed: network error, timeout, status, size cap, or content. Callers wrap
 * it in the error of what was fetched ({@link KeysUnavailableError},
 * {@link IntrospectionUnavailableError}); one that reaches a decision unwrapped is `internal_error`.
 */
export class FetchError extends ScopegateError {
  readonly reason = Reason.Internal;

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

/** The reason code of any thrown value: a {@link ScopegateError}'s own, else `internal_error`. */
export function reasonOf(error: unknown): ReasonCode {
  return error instanceof ScopegateError ? error.reason : Reason.Internal;
}

/** The message of any thrown value, for a decision's `detail`. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
