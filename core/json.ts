/** A parsed JSON object: its members are not checked yet. */
export type JsonObject = Record<string, unknown>;

/**
 * Whether a parsed JSON value is an object. `typeof` says `'object'` for `null` and for
 * arrays too, so both are ruled out here: the one plain-object check of the codebase.
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
