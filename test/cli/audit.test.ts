import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { JwksServer } from '../support/jwks-server';
import { makeKey } from '../support/jwt';
import { TLS } from '../support/tls';

describe('scopegate audit', () => {
  const server = new JwksServer();
  let uri: string;
  beforeAll(async () => {
    uri = await server.start();
  });
  afterAll(() => server.stop());

  async function run(...argv: string[]) {
    const lines: string[] = [];
    const code = await main(['audit', ...argv], (t) => lines.push(t));
    return { code, text: lines.join('\n') };
  }

  it('prints the contract JSON and exits 0 without error findings', async () => {
    server.keys = [makeKey('ES256', 'a').publicJwk];
    const { code, text } = await run('--jwks-uri', uri, '--ca', TLS.certPath, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(text).findings).toEqual([
      { code: 'no_next_key', severity: 'warning', kid: 'a', detail: expect.stringContaining('only one signing key') },
    ]);
  });

  it('exits 1 on an error finding and prints a readable table', async () => {
    server.keys = [makeKey('RS256', 'small', { bits: 1024 }).publicJwk];
    const { code, text } = await run('--jwks-uri', uri, '--ca', TLS.certPath);
    expect(code).toBe(1);
    expect(text).toMatch(/ERROR\s+weak_key\s+\[small\]/);
  });

  it('keeps first-seen dates in --state between runs', async () => {
    server.keys = [makeKey('ES256', 'a').publicJwk, makeKey('ES256', 'b').publicJwk];
    const state = join(mkdtempSync(join(tmpdir(), 'scopegate-')), 'state.json');
    await run('--jwks-uri', uri, '--ca', TLS.certPath, '--state', state);
    const first = JSON.parse(readFileSync(state, 'utf8')).firstSeen;
    await run('--jwks-uri', uri, '--ca', TLS.certPath, '--state', state);
    expect(JSON.parse(readFileSync(state, 'utf8')).firstSeen).toEqual(first);
    expect(Object.keys(first)).toEqual(['a', 'b']);
  });

  it('answers --help and refuses a call without a source with exit 2', async () => {
    expect((await run('--help')).text).toContain('Usage: scopegate audit');
    expect((await run()).code).toBe(2);
  });
});
