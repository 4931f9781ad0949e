import { isJsonObject, type JsonObject } from './json';

/**
 * Throw the error `fail` makes unless `value` is a JSON object ({@link isJsonObject}). `fail`
 * runs only on failure, so the error (and its message) is built only when needed; each caller
 * keeps its own error type (a {@link ConfigError} naming the field, an `InvalidTokenError`
 * with its reason…).
 */
export function assertJsonObject(value: unknown, fail: () => Error): asserts value is JsonObject {
  if (!isJsonObject(value)) throw fail();
}
