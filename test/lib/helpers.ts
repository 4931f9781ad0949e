import { App, Stack } from 'aws-cdk-lib';
import { readEnvironment } from '../../lib/environment';

/** The environments of the repository's cdk.json. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const ENVIRONMENTS = (require('../../cdk.json') as { context: { environments: Record<string, unknown> } }).context.environments;

/** A stack in a fresh app, for one construct's tests. */
export function testStack(): Stack {
  return new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
}

/** The settings of environment `name` of cdk.json. */
export function settingsOf(name: string) {
  return readEnvironment(ENVIRONMENTS, name);
}
