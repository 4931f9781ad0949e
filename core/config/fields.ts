/**
 * The field validators of every configuration scopegate reads: the authorizer's JSON
 * (`core/config/`) and the `cdk.json` environments (`lib/environment.ts`).
 * Each takes the value and the path of its field, and throws a {@link ConfigError} that names
 * that field (`issuers[0].audience`, `environments.dev.region`) and says what it must be.
 */
import { assertJsonObject } from '../assert';
import { ConfigError, ConfigErrors } from '../errors';
import type { JsonObject } from '../json';
import { httpsUrlProblem } from '../url';

/** A JSON object. */
export function assertObject(value: unknown, field: string): asserts value is JsonObject {
  assertJsonObject(value, () => new ConfigError(field, 'must be an object'));
}

/** Refuse a member not in `known` (a typo must not pass as a default silently). */
export function rejectUnknown(value: JsonObject, field: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ConfigError(field ? `${field}.${key}` : key, `unknown field (known: ${known.join(', ')})`);
  }
}

/** A non-empty string. */
export function str(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(field, 'must be a non-empty string');
  return value;
}

/** An absolute `https:` URL, returned as written. */
export function httpsUrl(value: unknown, field: string): string {
  const text = str(value, field);
  const problem = httpsUrlProblem(text);
  if (problem !== undefined) throw new ConfigError(field, problem);
  return text;
}

/** An integer from `min` to `max`, or `fallback` when absent. */
export function int(value: unknown, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** `true` or `false`; `false` when absent. */
export function bool(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ConfigError(field, 'must be true or false');
  return value;
}

/** One of `allowed`, or `fallback` when absent. */
export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new ConfigError(field, `must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}`);
  }
  return value as T;
}

/** A string (taken as a list of one) or a list of non-empty strings; non-empty unless `allowEmpty`. */
export function stringList(value: unknown, field: string, allowEmpty: boolean): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || (!allowEmpty && list.length === 0)) {
    throw new ConfigError(field, allowEmpty ? 'must be a list of strings' : 'must be a string or a non-empty list of strings');
  }
  return list.map((item, i) => str(item, `${field}[${i}]`));
}

/**
 * The {@link ConfigError}s of independent checks of one configuration, kept so that one pass
 * reports them all ({@link ConfigErrors}) instead of the first alone.
 */
export class FieldErrors {
  readonly errors: ConfigError[] = [];

  /** What `check` returns, or `undefined` when it threw a {@link ConfigError} (kept; any other error is thrown). */
  check<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.errors.push(error);
      return undefined;
    }
  }

  /** Keep an error. */
  add(field: string, message: string): void {
    this.errors.push(new ConfigError(field, message));
  }

  /** Throw every error kept as one {@link ConfigErrors} about `subject`; nothing when none was. */
  throwIfAny(subject: string): void {
    if (this.errors.length > 0) throw new ConfigErrors(subject, this.errors);
  }
}
