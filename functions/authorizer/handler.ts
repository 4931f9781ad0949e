import { ConfigError } from '../../core/errors';
import { SsmParameters } from '../shared/ssm-parameters';
import { type ConfigSource, InlineConfigSource, SsmConfigSource } from './config-source';
import type { AuthorizerEvent, AuthorizerResponse } from './events';
import { ssmSecrets } from './introspection';
import { AuthorizerRuntime, type HandlerDependencies } from './runtime';
import { withLambdaContext } from './telemetry';

export type { AuthorizerEvent, AuthorizerResponse } from './events';
export type { HandlerDependencies } from './runtime';

/** Where the configuration is, by the environment: inline (`AUTHZ_CONFIG`) or an SSM parameter (`AUTHZ_CONFIG_PARAMETER`). */
function configSourceFrom(env: Record<string, string | undefined>, parameters: SsmParameters): ConfigSource {
  if (env.AUTHZ_CONFIG !== undefined && env.AUTHZ_CONFIG.length > 0) return new InlineConfigSource(env.AUTHZ_CONFIG);
  const name = env.AUTHZ_CONFIG_PARAMETER;
  if (name === undefined || name.length === 0) {
    return { text: () => Promise.reject(new ConfigError('AUTHZ_CONFIG', 'neither AUTHZ_CONFIG nor AUTHZ_CONFIG_PARAMETER is set')) };
  }
  return new SsmConfigSource({ name, parameters });
}

/**
 * Build an authorizer handler. The configuration is read and the issuers' key sets are
 * fetched as soon as the handler is created (during the cold start); a failure there is
 * kept for the first invocation to report, never thrown at import.
 */
export function createHandler(deps: HandlerDependencies = {}): (event: AuthorizerEvent) => Promise<AuthorizerResponse> {
  const env = deps.env ?? process.env;
  // One SSM reader (one client) for the configuration parameter and the introspection secrets.
  const ttlSeconds = Number(env.AUTHZ_CONFIG_TTL_SECONDS ?? '300');
  const parameters = new SsmParameters({ maxAgeMs: (Number.isFinite(ttlSeconds) ? ttlSeconds : 300) * 1000 });
  const source = deps.configSource ?? configSourceFrom(env, parameters);
  const runtime = new AuthorizerRuntime(source, { ...deps, secrets: deps.secrets ?? ssmSecrets(parameters) });
  runtime.start();
  return (event) => runtime.handle(event);
}

/** The Lambda entry point: configuration from the environment, JSON log and EMF telemetry. */
export const handler = withLambdaContext(createHandler());
