import { readScopes, scopeKey } from '../../../functions/authorizer/scopes';

describe('readScopes', () => {
  it('refuses a scope or scp value that is not an RFC 6749 scope token, rather than splitting or keeping it', () => {
    expect(() => readScopes({ scp: ['telemetry:read telemetry:write'] }, 'scp')).toThrow(/not an RFC 6749 scope token/);
    expect(() => readScopes({ scope: 'telemetry:read\ttelemetry:write' }, 'scope')).toThrow(/not an RFC 6749 scope token/);
    expect(() => readScopes({ scp: ['a:b', '"quoted"'] }, undefined)).toThrow(/not an RFC 6749 scope token/);
  });

  it('leaves out the values of other permission claims that cannot be scope tokens (group names with spaces or accents)', () => {
    expect(readScopes({ 'cognito:groups': ['Admins', 'Ops Team', 'Équipe'] }, 'cognito:groups')).toEqual(['Admins']);
    expect(readScopes({ roles: ['Telemetry.Read.All'] }, 'roles')).toEqual(['Telemetry.Read.All']);
  });
});

describe('scopeKey', () => {
  it('gives lists of scope tokens distinct keys, and a list holding any other value a key no such list has', () => {
    expect(scopeKey(['a', 'b'])).toBe('a b');
    expect(scopeKey(['a b'])).not.toBe(scopeKey(['a', 'b']));
    expect(scopeKey([''])).not.toBe(scopeKey([]));
  });
});
