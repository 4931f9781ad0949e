import { buildFunctions } from '../../scripts/build';

/**
 * Jest's global setup: bundle the functions (`npm run build:functions`) before any test, so
 * the constructs under test deploy, and the tests run, the bundles the package ships, built
 * from the sources as they are now. A bundle whose bytes did not change is not rewritten.
 */
export default async function globalSetup(): Promise<void> {
  await buildFunctions();
}
