import { assertJsonObject } from '../../core/assert';
import { ConfigError } from '../../core/errors';
import { isJsonObject } from '../../core/json';

describe('isJsonObject', () => {
  it('accepts a parsed JSON object, empty or not', () => {
    expect(isJsonObject(JSON.parse('{}'))).toBe(true);
    expect(isJsonObject(JSON.parse('{"a":1}'))).toBe(true);
  });

  it('refuses null and arrays, which typeof calls objects too, and every other JSON value', () => {
    for (const text of ['null', '[]', '[{}]', '"x"', '1', 'true']) expect(isJsonObject(JSON.parse(text))).toBe(false);
    expect(isJsonObject(undefined)).toBe(false);
  });
});

describe('assertJsonObject', () => {
  it('throws the error the caller makes, unchanged, for a value that is not an object', () => {
    expect(() => assertJsonObject([], () => new ConfigError('issuers[0]', 'must be an object'))).toThrow(
      new ConfigError('issuers[0]', 'must be an object'),
    );
  });

  it('makes no error for an object', () => {
    const fail = jest.fn(() => new Error('unused'));
    assertJsonObject({ a: 1 }, fail);
    expect(fail).not.toHaveBeenCalled();
  });
});
