import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../core/config';
import { routeTableProofErrors } from '../../proof/prove';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  const example = /```json\n([\s\S]*?)```/.exec(readme)?.[1];

  it('gives an example configuration that loads without warnings', () => {
    expect(example).toBeDefined();
    const { config, warnings } = parseConfig(JSON.parse(example as string));
    expect(warnings).toEqual([]);
    expect(config.issuers[0]?.profile).toBe('cognito');
  });

  it('gives an example whose compiled policies are proven exact', () => {
    const { config } = parseConfig(JSON.parse(example as string));
    expect(routeTableProofErrors(config)).toEqual([]);
  });
});
