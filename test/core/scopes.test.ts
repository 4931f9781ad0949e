import { grantedScopes, readScopes, scopeClaimOf, scopeKey } from '../../core/scopes';

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

describe('grantedScopes', () => {
  it('grants the first claim of the list the token carries and ignores the others (never a union)', () => {
    const auth0 = ['scope', 'permissions'];
    expect(grantedScopes({ scope: 'openid read:telemetry', permissions: ['delete:telemetry'] }, auth0)).toEqual([
      'openid',
      'read:telemetry',
    ]);
    expect(scopeClaimOf({ scope: 'openid read:telemetry', permissions: ['delete:telemetry'] }, auth0)).toBe('scope');
    // An empty scope is still the claim that grants: nothing, and permissions stay ignored.
    expect(grantedScopes({ scope: '', permissions: ['delete:telemetry'] }, auth0)).toEqual([]);
    expect(grantedScopes({ permissions: ['read:telemetry'] }, auth0)).toEqual(['read:telemetry']);
    const entra = ['scp', 'roles'];
    expect(grantedScopes({ scp: 'Telemetry.Read', roles: ['Telemetry.Write'] }, entra)).toEqual(['Telemetry.Read']);
    expect(grantedScopes({ roles: ['Telemetry.Write'] }, entra)).toEqual(['Telemetry.Write']);
    expect(scopeClaimOf({ roles: ['Telemetry.Write'] }, entra)).toBe('roles');
    expect(grantedScopes({}, entra)).toEqual([]);
    expect(scopeClaimOf({}, entra)).toBeUndefined();
  });

  it('reads scope, then scp, when the issuer names no claim', () => {
    expect(grantedScopes({ scope: 'a:b', scp: ['c:d'] }, undefined)).toEqual(['a:b']);
    expect(grantedScopes({ scp: ['c:d'] }, undefined)).toEqual(['c:d']);
    expect(scopeClaimOf({ scp: ['c:d'] }, undefined)).toBe('scp');
  });
});
