import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Manifest, offlineProject } from './offline-install';

// What a user gets from `npm install scopegate aws-cdk-lib constructs`: this repository packed
// (`npm pack`, which builds it), the tarball installed into a new project outside the
// repository (offline, its dependencies from npm's cache; aws-cdk-lib and constructs linked
// from this repository's node_modules, as the app's own), then the README's example app
// synthesized from ES modules, CommonJS and TypeScript, and `npx scopegate verify` run.

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);
/** Child processes get this environment without the npm_* variables of an enclosing `npm test`. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'INIT_CWD'));

/** The README's "Use it from your CDK app" example: the code a user pastes. */
function readmeExample(): string {
  const section = readFileSync(join(ROOT, 'README.md'), 'utf8').split('### Use it from your CDK app')[1] ?? '';
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error('README.md has no ```ts block under "### Use it from your CDK app"');
  return code;
}

/** The same app as CommonJS: each `import` line as the `require` it stands for. */
function commonJs(esm: string): string {
  const cjs = esm
    .replace(/^import \* as (\w+) from '([^']+)';$/gm, "const $1 = require('$2');")
    .replace(/^import \{([^}]+)\} from '([^']+)';$/gm, "const {$1} = require('$2');");
  if (/^import /m.test(cjs)) throw new Error(`an import line was not converted:\n${cjs}`);
  return cjs;
}

/** Compiled with the app: the props' types must be scopegate's, not `any` (an unused @ts-expect-error fails tsc). */
const TYPES_CHECK = `import { AuthorizerMode, Enforcement, type ScopeAuthorizerProps } from 'scopegate';

export const props: ScopeAuthorizerProps = {
  issuers: [{ issuer: 'https://idp.example.com', audience: 'https://api.example.internal' }],
  mode: AuthorizerMode.TOKEN,
  enforcement: Enforcement.REPORT_ONLY,
  // @ts-expect-error cacheTtl is a Duration, not a number of seconds
  cacheTtl: 300,
};
`;

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, string>;
}

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  integrity: string;
  files: { path: string; size: number }[];
}

describe('the packed package, installed into a new project', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'scopegate-package-'));
  const project = join(tmp, 'app');
  const installed = join(project, 'node_modules', 'scopegate');
  let packed: Packed;
  const synthesized: Record<'esm' | 'cjs' | 'ts', string> = {
    esm: join(tmp, 'out-esm'),
    cjs: join(tmp, 'out-cjs'),
    ts: join(tmp, 'out-ts'),
  };

  beforeAll(async () => {
    // npm pack runs prepack (the build: tsc and the bundles) and prints its report as JSON last.
    const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, env: ENV, maxBuffer: 64 << 20 });
    packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[\n'))) as Packed[])[0] as Packed;

    mkdirSync(project);
    copyFileSync(join(tmp, packed.filename), join(project, packed.filename));
    const { execFileSync } = await import('node:child_process');
    const manifest = JSON.parse(
      execFileSync('tar', ['-xOzf', join(project, packed.filename), 'package/package.json'], { encoding: 'utf8' }),
    ) as Manifest;
    const repositoryLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const { packageJson, lock } = offlineProject(repositoryLock, { file: packed.filename, manifest, integrity: packed.integrity });
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
    writeFileSync(join(project, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
    // Peers are the app's: not installed by npm (--legacy-peer-deps), linked afterwards.
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--legacy-peer-deps'], { cwd: project, env: ENV });
    for (const peer of ['aws-cdk-lib', 'constructs'])
      symlinkSync(join(ROOT, 'node_modules', peer), join(project, 'node_modules', peer), 'dir');

    const example = readmeExample();
    writeFileSync(join(project, 'app.mjs'), example);
    writeFileSync(join(project, 'app.cjs'), commonJs(example));
    writeFileSync(join(project, 'app.ts'), example);
    writeFileSync(join(project, 'types-check.ts'), TYPES_CHECK);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          types: [],
          skipLibCheck: true,
          outDir: 'ts-out',
        },
        files: ['app.ts', 'types-check.ts'],
      }),
    );
    // CDK_OUTDIR as the CDK CLI sets it (the app synthesizes on exit). aws-cdk-lib's built-in
    // CloudFormation validation (about 5 s of WebAssembly per process) runs on the ES module
    // synth only: the three templates are the same.
    const synth = (file: string, outdir: string, validation = false) =>
      run(process.execPath, [file], {
        cwd: project,
        env: { ...ENV, CDK_OUTDIR: outdir, ...(validation ? {} : { CDK_VALIDATION: 'false' }) },
      });
    const tsc = require.resolve('typescript/bin/tsc');
    await Promise.all([
      synth('app.mjs', synthesized.esm, true),
      synth('app.cjs', synthesized.cjs),
      run(process.execPath, [tsc, '-p', project], { cwd: project, env: ENV }).then(() => synth(join('ts-out', 'app.js'), synthesized.ts)),
    ]);
  });

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('ships the compiled library with its declarations, the CLI and the function bundles, and no TypeScript source', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/scopegate.js',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/cli/main.js',
        'dist/bundles/authorizer/index.mjs',
        'dist/bundles/authorizer/index.mjs.map',
        'dist/bundles/rotation-checker/index.mjs',
        'dist/bundles/rotation-checker/index.mjs.map',
      ]),
    );
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(
      paths.filter((p) => !p.startsWith('dist/') && !['package.json', 'README.md', 'bin/scopegate.js', 'CHANGELOG.md'].includes(p)),
    ).toEqual([]);
  });

  it('declares aws-cdk-lib and constructs as peers, and depends on neither TypeScript nor esbuild', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Manifest & { private?: boolean };
    expect(manifest.private).toBeUndefined();
    expect(Object.keys(manifest.peerDependencies ?? {}).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(Object.keys(manifest.dependencies ?? {})).not.toEqual(expect.arrayContaining(['aws-cdk-lib']));
  });

  it('resolves neither TypeScript nor esbuild (nor tsx) from the project or the installed package', async () => {
    // Node's own resolution, in a process of the project, as its synth would resolve them.
    const script = `
      const found = [];
      for (const from of process.argv.slice(1)) for (const tool of ['typescript', 'esbuild', 'tsx']) {
        try { found.push(require.resolve(tool, { paths: [from] })); } catch (e) { if (e.code !== 'MODULE_NOT_FOUND') throw e; }
      }
      console.log(JSON.stringify(found));`;
    const { stdout } = await run(process.execPath, ['-e', script, project, installed], { cwd: project, env: ENV });
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it.each(['esm', 'cjs', 'ts'] as const)(
    'synthesizes the README app from %s, the authorizer function deploying the shipped bundle',
    (kind) => {
      const outdir = synthesized[kind];
      const template = JSON.parse(readFileSync(join(outdir, 'TelemetryApi.template.json'), 'utf8')) as {
        Resources: Record<string, CfnResource>;
      };
      const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      const authorizer = functions.find(
        (r) => (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.AUTHZ_CONFIG_PARAMETER,
      );
      expect(authorizer?.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x', Architectures: ['arm64'] });
      // The asset whose zip the function's Code names, as the assets manifest says (cdk deploy's view).
      const manifest = JSON.parse(readFileSync(join(outdir, 'TelemetryApi.assets.json'), 'utf8')) as {
        files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
      };
      const key = (authorizer?.Properties.Code as { S3Key?: string } | undefined)?.S3Key;
      const file = Object.values(manifest.files).find((f) => Object.values(f.destinations).some((d) => d.objectKey === key));
      const asset = join(outdir, file?.source.path ?? `no asset for ${key}`);
      expect(readdirSync(asset).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const deployed = readFileSync(join(asset, 'index.mjs'));
      expect(deployed.equals(readFileSync(join(installed, 'dist', 'bundles', 'authorizer', 'index.mjs')))).toBe(true);
      // And the bundle this repository's tests, sandbox and app run.
      expect(deployed.equals(readFileSync(join(ROOT, 'dist', 'bundles', 'authorizer', 'index.mjs')))).toBe(true);
      expect(
        readFileSync(join(asset, 'index.mjs.map')).equals(readFileSync(join(installed, 'dist', 'bundles', 'authorizer', 'index.mjs.map'))),
      ).toBe(true);
    },
  );

  it('runs npx scopegate verify from the installed package on the configuration it synthesized', async () => {
    const template = JSON.parse(readFileSync(join(synthesized.esm, 'TelemetryApi.template.json'), 'utf8')) as {
      Resources: Record<string, CfnResource>;
    };
    const parameter = Object.values(template.Resources).find((r) => r.Type === 'AWS::SSM::Parameter');
    const config = join(project, 'authz.json');
    writeFileSync(config, parameter?.Properties.Value as string);
    const { stdout } = await run('npx', ['--no', 'scopegate', 'verify', '--config', config, '--json'], { cwd: project, env: ENV });
    expect(JSON.parse(stdout)).toMatchObject({ proven: true, exhaustive: true });
  });
});
