import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseConfig } from '../../core/config';
import { ConfigError } from '../../core/errors';

// The README and docs/ are read by someone who has the repository and nothing else.

const ROOT = join(__dirname, '..', '..');
const PAGES = ['README.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md'));
const text = (page: string) => readFileSync(join(ROOT, page), 'utf8');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(page: string): Set<string> {
  return new Set([...text(page).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] as string)));
}

describe.each(PAGES)('%s', (page) => {
  it('refers to nothing outside the repository (no ../shared, no contract)', () => {
    expect(text(page)).not.toMatch(/\.\.\/shared/);
    expect(text(page)).not.toMatch(/contract/i);
  });

  it('links only to files of the repository that exist, and to headings they have', () => {
    const broken: string[] = [];
    for (const [, target] of text(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target as string)) continue; // https://, mailto:
      const [file, anchor] = (target as string).split('#') as [string, string | undefined];
      const path = file === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), file);
      if (relative(ROOT, path).startsWith('..') || !existsSync(path)) broken.push(`${target} (no such file in the repository)`);
      else if (anchor !== undefined && path.endsWith('.md') && !anchorsOf(relative(ROOT, path)).has(anchor)) {
        broken.push(`${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/** The fields the configuration's validator knows under `prefix`, read from its own "unknown field" message. */
function knownFields(document: (extra: Record<string, unknown>) => unknown): string[] {
  try {
    parseConfig(document({ zzzUnknown: 1 }));
  } catch (error) {
    if (error instanceof ConfigError) return (/\(known: (.*)\)$/.exec(error.message)?.[1] ?? '').split(', ');
    throw error;
  }
  throw new Error('the validator accepted an unknown field');
}

describe('docs/configuration.md, "Deploying each setting"', () => {
  const issuer = { issuer: 'https://idp.test', audience: 'api' };
  const fields = [
    ...knownFields((x) => ({ issuers: [issuer], routes: [], ...x })).filter((f) => !['issuers', 'routes', 'jwks'].includes(f)),
    ...knownFields((x) => ({ issuers: [{ ...issuer, ...x }], routes: [] })).map((f) => `issuers[].${f}`),
    ...knownFields((x) => ({ issuers: [issuer], routes: [{ method: 'GET', path: '/a', ...x }] })).map((f) => `routes[].${f}`),
    ...knownFields((x) => ({ issuers: [issuer], routes: [], jwks: x })).map((f) => `jwks.${f}`),
  ];
  const section = /### Deploying each setting\n([\s\S]*?)\n### /.exec(text('docs/configuration.md'))?.[1] ?? '';
  // The first column of each row, `a.b`, `.c` read as a.b and a.c.
  const documented = new Set(
    section
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => {
        let base = '';
        return [...(line.split('|')[1] as string).matchAll(/`([^`]+)`/g)].map(([, name]) => {
          const full = (name as string).startsWith('.') ? `${base}${name}` : (name as string);
          base = full.slice(0, full.lastIndexOf('.'));
          return full;
        });
      }),
  );

  it.each(fields)('says how %s is deployed, or why it is the function only', (field) => {
    const covered = [...documented].some((d) => field === d || field.startsWith(`${d}.`) || field.startsWith(`${d}[].`));
    expect(covered).toBe(true);
  });
});
