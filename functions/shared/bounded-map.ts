/**
 * A `Map` that holds at most `maxEntries`: setting a new key when it is full first drops the
 * oldest entry (first in, first out), and setting a held key moves it to the newest place.
 * The one bound of every memo and replay cache in the authorizer, so that no stream of
 * distinct tokens, scopes or proofs can grow memory without limit. Reads are the `Map`'s own.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  /** `maxEntries` is at least 1. */
  constructor(readonly maxEntries: number) {
    super();
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  override set(key: K, value: V): this {
    if (super.delete(key)) return super.set(key, value);
    if (this.size >= this.maxEntries) super.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
