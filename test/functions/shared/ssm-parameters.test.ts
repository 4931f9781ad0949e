import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { Introspector } from '../../../functions/authorizer/introspection';
import { SsmParameters } from '../../../functions/shared/ssm-parameters';

const ssm = mockClient(SSMClient);
afterEach(() => ssm.reset());

describe('SsmParameters', () => {
  it('holds a value for maxAgeMs, then reads it again', async () => {
    let clock = 0;
    ssm
      .on(GetParameterCommand, { Name: '/p' })
      .resolvesOnce({ Parameter: { Value: 'v1' } })
      .resolves({ Parameter: { Value: 'v2' } });
    const parameters = new SsmParameters({ client: new SSMClient({}), maxAgeMs: 1000, now: () => clock });
    expect(await parameters.get('/p')).toBe('v1');
    clock = 999;
    expect(await parameters.get('/p')).toBe('v1');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    clock = 1000;
    expect(await parameters.get('/p')).toBe('v2');
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({ Name: '/p', WithDecryption: true });
  });

  it('says what a read would give from the cache without waiting, and nothing once it is stale', async () => {
    let clock = 0;
    ssm.on(GetParameterCommand, { Name: '/p' }).resolves({ Parameter: { Value: 'v1' } });
    const parameters = new SsmParameters({ client: new SSMClient({}), maxAgeMs: 1000, now: () => clock });
    expect(parameters.held('/p')).toBeUndefined();
    await parameters.get('/p');
    clock = 999;
    expect(parameters.held('/p')).toBe('v1');
    clock = 1000;
    expect(parameters.held('/p')).toBeUndefined();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('serves the last good value when a re-read fails, and holds it for another maxAgeMs', async () => {
    let clock = 0;
    ssm
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: 'good' } })
      .rejects(new Error('ThrottlingException'));
    const parameters = new SsmParameters({ client: new SSMClient({}), maxAgeMs: 1000, now: () => clock });
    await parameters.get('/p');
    clock = 5000;
    expect(await parameters.get('/p')).toBe('good');
    clock = 5999;
    expect(await parameters.get('/p')).toBe('good');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('rejects a first read that fails, and tries again on the next', async () => {
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(new Error('AccessDeniedException'))
      .resolves({ Parameter: { Value: 'v' } });
    const parameters = new SsmParameters({ client: new SSMClient({}) });
    await expect(parameters.get('/p')).rejects.toThrow('AccessDeniedException');
    await expect(parameters.get('/p')).resolves.toBe('v');
  });

  it('rejects a parameter without a value, naming it', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: {} });
    await expect(new SsmParameters({ client: new SSMClient({}) }).get('/empty')).rejects.toThrow('SSM parameter /empty: has no value');
  });

  it('shares one call among concurrent reads of a name', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'v' } });
    const parameters = new SsmParameters({ client: new SSMClient({}) });
    await expect(Promise.all([parameters.get('/p'), parameters.get('/p'), parameters.get('/q')])).resolves.toEqual(['v', 'v', 'v']);
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input.Name)).toEqual(['/p', '/q']);
  });
});

describe('the introspection secrets', () => {
  it('are read by one SSM client, not one per parameter', async () => {
    ssm.on(GetParameterCommand, { Name: '/cert' }).resolves({ Parameter: { Value: 'CERT' } });
    ssm.on(GetParameterCommand, { Name: '/key' }).resolves({ Parameter: { Value: 'KEY' } });
    let seen: unknown;
    const introspector = new Introspector({
      call: async (_config, _token, credentials) => {
        seen = credentials;
        return { active: false };
      },
    });
    await introspector.introspect(
      {
        endpoint: 'https://as.example.com/introspect',
        clientId: 'scopegate',
        clientCertificateParameter: '/cert',
        clientKeyParameter: '/key',
        cacheMaxSeconds: 0,
        timeoutMs: 100,
        forJwts: false,
        omitsAudience: false,
        accessTokenTypes: ['Bearer'],
        tokenPrefix: undefined,
      },
      'opaque-token',
    );
    expect(seen).toEqual({ clientSecret: undefined, clientCertificate: 'CERT', clientKey: 'KEY' });
    const calls = ssm.commandCalls(GetParameterCommand);
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c) => c.thisValue)).size).toBe(1);
  });
});
