#!/usr/bin/env node
// The CDK app: `npx cdk synth|deploy -c env=NAME` deploys environment NAME of cdk.json.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readEnvironment } from '../lib/environment';
import { ScopegateStack } from '../lib/scopegate-stack';

const app = new App();
let settings: ReturnType<typeof readEnvironment>;
try {
  settings = readEnvironment(app.node.tryGetContext('environments'), app.node.tryGetContext('env'));
} catch (error) {
  console.error(`scopegate: ${(error as Error).message}`);
  process.exit(1);
}
new ScopegateStack(app, `scopegate-${settings.name}`, {
  env: { account: settings.account, region: settings.region },
  settings,
  description: `scopegate OAuth 2.0 scope authorizer (${settings.name})`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
