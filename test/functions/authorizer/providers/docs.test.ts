import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILE_DOCS } from '../../../../cli/profile-docs';
import { parseConfig } from '../../../../core/config';
import { PROFILE_NAMES } from '../../../../core/profiles';

const page = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'providers.md'), 'utf8');

describe('docs/providers.md', () => {
  const configs = [...page.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] as string) as Record<string, unknown>);

  it('gives a copy-paste configuration that loads, without warnings, for each provider profile', () => {
    const profiles = configs.map((raw) => {
      const { config, warnings } = parseConfig(raw);
      expect(warnings.filter((w) => w.startsWith('issuers'))).toEqual([]);
      return config.issuers[0]?.profile;
    });
    expect(profiles).toEqual(['cognito', 'entra', 'okta', 'auth0', 'keycloak']);
  });

  it.each(PROFILE_NAMES)('cites every source the %s profile relies on', (name) => {
    for (const fact of PROFILE_DOCS[name].facts) expect(page).toContain(fact.source);
  });
});
