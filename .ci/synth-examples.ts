/**
 * Synthesize every example app (each `examples/*.ts` that exports `build(app)`) into
 * `OUTDIR/NAME`, with the repository's cdk.json context, as `npx cdk synth --app "npx tsx
 * examples/NAME.ts"` would, in one process (one load of aws-cdk-lib instead of one per
 * example). `.ci/run` lints the templates with cfn-lint.
 *
 *   npx tsx .ci/synth-examples.ts OUTDIR
 */
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { REPOSITORY_CONTEXT } from '../examples/common';

/** What the CLI adds to cdk.json's context by default: path and asset metadata, and the CDKMetadata resource. */
const CLI_DEFAULTS = { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:version-reporting': true };

async function main(): Promise<void> {
  const outdir = process.argv[2];
  if (outdir === undefined) throw new Error('usage: npx tsx .ci/synth-examples.ts OUTDIR');
  const dir = join(__dirname, '..', 'examples');
  let count = 0;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const module = (await import(join(dir, file))) as { build?: (app: App) => unknown };
    if (typeof module.build !== 'function') continue;
    const name = basename(file, '.ts');
    const app = new App({ context: { ...REPOSITORY_CONTEXT, ...CLI_DEFAULTS }, outdir: resolve(outdir, name) });
    module.build(app);
    const stacks = app.synth().stacks.map((s) => s.stackName);
    console.log(`synthesized examples/${file}: ${stacks.join(', ')}`);
    count++;
  }
  if (count === 0) throw new Error(`no example app (a file exporting build) in ${dir}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
