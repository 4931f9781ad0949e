/**
 * The package's build, one script for every user of its output:
 *
 *   node --import tsx scripts/build.ts functions   the Lambda bundles (npm ci's `prepare`, the tests'
 *                                                  global setup, `cdk synth`'s build step, npm start, npm run bench)
 *   node --import tsx scripts/build.ts library     JavaScript and declarations of the library and the CLI (tsc)
 *   node --import tsx scripts/build.ts             both (`npm pack`'s `prepack`)
 *
 * The bundles are what the constructs deploy and what the package ships: a bundle is
 * rewritten only when its bytes change, and by rename, so a test or a synth reading it while
 * another build runs sees the old file or the new one, never half of one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import {
  BUNDLE_BANNER,
  BUNDLE_EXTERNALS,
  BUNDLE_FILE,
  BUNDLE_TARGET,
  BUNDLES_DIR,
  FUNCTION_ENTRIES,
  type FunctionName,
} from '../lib/bundle-options';

/** The repository root. */
export const ROOT = join(__dirname, '..');

/** One bundled function: where it is and how big (bytes). */
export interface BuiltFunction {
  readonly name: FunctionName;
  readonly dir: string;
  readonly bundleBytes: number;
  readonly mapBytes: number;
  /** Whether this build wrote it (false: the bytes on disk were already these). */
  readonly written: boolean;
}

/**
 * Bundle every function into `BUNDLES_DIR/<name>/`: minified ESM for Node.js 24 with a linked
 * source map beside it, the AWS SDK left to the runtime. The esbuild options are those
 * aws-lambda-nodejs passed for the same settings (`minify`, `sourceMap`, ESM, `mainFields`,
 * the banner), so the bundles are byte for byte what `NodejsFunction` deployed before.
 */
export async function buildFunctions(root = ROOT): Promise<BuiltFunction[]> {
  const bundlesDir = join(root, BUNDLES_DIR);
  const names = Object.keys(FUNCTION_ENTRIES) as FunctionName[];
  const built = await Promise.all(
    names.map(async (name) => {
      const dir = join(bundlesDir, name);
      const result = await build({
        absWorkingDir: root,
        entryPoints: [join(root, FUNCTION_ENTRIES[name])],
        outfile: join(dir, BUNDLE_FILE),
        bundle: true,
        minify: true,
        sourcemap: true,
        format: 'esm',
        platform: 'node',
        target: BUNDLE_TARGET,
        mainFields: ['module', 'main'],
        external: BUNDLE_EXTERNALS,
        banner: { js: BUNDLE_BANNER },
        write: false,
        logLevel: 'warning',
      });
      mkdirSync(dir, { recursive: true });
      let written = false;
      for (const file of result.outputFiles) written = writeIfChanged(file.path, file.contents) || written;
      // The folder is the Lambda asset: nothing but the bundle and its map may be in it.
      const expected = new Set(result.outputFiles.map((f) => basename(f.path)));
      for (const entry of readdirSync(dir)) if (!expected.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
      const size = (suffix: string) => result.outputFiles.find((f) => f.path.endsWith(suffix))?.contents.byteLength ?? 0;
      return { name, dir, bundleBytes: size('.mjs'), mapBytes: size('.mjs.map'), written };
    }),
  );
  for (const entry of readdirSync(bundlesDir)) {
    if (!(names as string[]).includes(entry)) rmSync(join(bundlesDir, entry), { recursive: true, force: true });
  }
  return built;
}

/** Write `contents` to `path` unless it holds them already; by rename, so a reader never sees a partial file. */
function writeIfChanged(path: string, contents: Uint8Array): boolean {
  if (existsSync(path) && Buffer.from(contents).equals(readFileSync(path))) return false;
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
  return true;
}

/**
 * Compile the library and the CLI (`tsconfig.build.json`: CommonJS JavaScript and
 * declarations under `dist/`), after removing what an earlier build left there, the bundles
 * apart.
 */
export function buildLibrary(root = ROOT): void {
  const dist = join(root, 'dist');
  if (existsSync(dist)) {
    const keep = relative(dist, join(root, BUNDLES_DIR)).split('/')[0];
    for (const entry of readdirSync(dist)) if (entry !== keep) rmSync(join(dist, entry), { recursive: true, force: true });
  }
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
}

async function main(args: string[]): Promise<void> {
  const what = args[0] ?? 'all';
  if (!['functions', 'library', 'all'].includes(what)) throw new Error(`usage: scripts/build.ts [functions|library], not ${what}`);
  if (what !== 'library') {
    for (const f of await buildFunctions()) {
      const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
      console.error(
        `scopegate: ${relative(ROOT, f.dir)}/${BUNDLE_FILE} ${kB(f.bundleBytes)}, map ${kB(f.mapBytes)}${f.written ? '' : ' (unchanged)'}`,
      );
    }
  }
  if (what !== 'functions') {
    buildLibrary();
    console.error('scopegate: dist/ (library and CLI, JavaScript and declarations)');
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
