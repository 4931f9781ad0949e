import { Duration, Lazy, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { parseConfig } from '../functions/authorizer/config';
import { scopegateFunction } from './node-function';

/** A trusted issuer, as the authorizer configuration names it (see the README). */
export interface ScopeAuthorizerIssuer {
  issuer: string;
  /** The key set URL; usually the JWKS distribution's. */
  jwksUri: string;
  /** Key sets read when `jwksUri` is unavailable or lacks a `kid`, in order (e.g. the issuer's discovery document). */
  jwksFallbackUris?: string[];
  audience: string | string[];
  algorithms?: string[];
  tokenType?: string;
  scopeClaim?: 'scope' | 'scp';
}

/** Properties of {@link ScopeAuthorizer}. */
export interface ScopeAuthorizerProps {
  issuers: ScopeAuthorizerIssuer[];
  /** API Gateway's cache of the returned policy, by token. At most 3600 s. Default 300 s. */
  cacheTtl?: Duration;
  /** Leeway for `exp`, `nbf`, `iat`, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Name of the SSM parameter that holds the configuration. Default generated. */
  parameterName?: string;
  /** Memory of the function, in MiB. Default 256 (see the README for the measurement). */
  memorySize?: number;
  /**
   * `token` (default): a TOKEN authorizer on the Authorization header, with the Bearer regex.
   * `request`: a REQUEST authorizer, which sees the method, the URL, the `DPoP` header and a
   * mutual-TLS client certificate, for sender-constrained tokens (RFC 8705, RFC 9449); its
   * identity sources are the Authorization and DPoP headers, so a cached answer is never
   * reused for another proof.
   */
  mode?: 'token' | 'request';
  /**
   * Tier of the configuration parameter: Standard holds 4 KB, Advanced 8 KB (and is
   * charged). Synth fails when the configuration does not fit. Default Standard.
   */
  parameterTier?: ssm.ParameterTier;
  /** X-Ray active tracing of the function. Default false. */
  tracing?: boolean;
}

/** Largest value of an SSM String parameter, in bytes, per tier. */
export const SSM_PARAMETER_LIMIT_BYTES: Record<string, number> = {
  [ssm.ParameterTier.STANDARD]: 4096,
  [ssm.ParameterTier.ADVANCED]: 8192,
};

/** What {@link ScopeAuthorizer.addMethod} records besides the API Gateway method. */
export interface ScopedMethodOptions {
  /** All of these are required. */
  scopes: string[];
  /** RFC 9470 step-up: authentication no older than this, in seconds. */
  maxAuthAgeSeconds?: number;
  /** Anything else of the method (request validator, method responses…). */
  methodOptions?: Omit<apigw.MethodOptions, 'authorizer' | 'authorizationType'>;
}

/** The route rows that end up in the configuration. */
interface Route {
  method: string;
  path: string;
  scopes: string[];
  maxAuthAgeSeconds?: number;
}

/**
 * The scopegate Lambda TOKEN authorizer: the function, its configuration in an SSM
 * parameter, and an API Gateway `TokenAuthorizer` (header `Authorization`, a Bearer
 * validation regex, a bounded cache). Add methods through {@link addMethod} so that the
 * route table is generated from the API definition: the scopes enforced cannot drift from
 * the routes deployed, and every resource of the API is a route of the table.
 */
export class ScopeAuthorizer extends Construct {
  /** The API Gateway authorizer; attach it to methods added by other means at your own risk. */
  readonly authorizer: apigw.TokenAuthorizer | apigw.RequestAuthorizer;
  readonly function: NodejsFunction;
  readonly parameter: ssm.StringParameter;
  private readonly routes: Route[] = [];
  private readonly props: ScopeAuthorizerProps;
  private readonly cacheTtlSeconds: number;

  constructor(scope: Construct, id: string, props: ScopeAuthorizerProps) {
    super(scope, id);
    this.props = props;
    this.cacheTtlSeconds = (props.cacheTtl ?? Duration.seconds(300)).toSeconds();
    if (this.cacheTtlSeconds > 3600)
      throw new Error(`cacheTtl is ${this.cacheTtlSeconds} s; API Gateway caches authorizer results for 3600 s at most`);
    this.parameter = new ssm.StringParameter(this, 'Config', {
      parameterName: props.parameterName,
      description: 'scopegate authorizer configuration (generated from the API definition)',
      stringValue: Lazy.string({ produce: () => JSON.stringify(this.configuration()) }),
      // Chosen, not Intelligent-Tiering: that silently turns a grown configuration into a
      // paid Advanced parameter, which cannot be turned back into a Standard one.
      tier: props.parameterTier ?? ssm.ParameterTier.STANDARD,
    });
    this.function = scopegateFunction(this, 'Function', {
      entry: 'authorizer/handler.ts',
      description: 'scopegate OAuth 2.0 scope authorizer',
      memorySize: props.memorySize ?? 256,
      timeout: Duration.seconds(10),
      environment: { AUTHZ_CONFIG_PARAMETER: this.parameter.parameterName, AUTHZ_CONFIG_TTL_SECONDS: '300' },
      tracing: props.tracing,
    });
    this.parameter.grantRead(this.function);
    this.authorizer =
      props.mode === 'request'
        ? new apigw.RequestAuthorizer(this, 'Authorizer', {
            handler: this.function,
            identitySources: [apigw.IdentitySource.header('Authorization'), apigw.IdentitySource.header('DPoP')],
            resultsCacheTtl: Duration.seconds(this.cacheTtlSeconds),
          })
        : new apigw.TokenAuthorizer(this, 'Authorizer', {
            handler: this.function,
            identitySource: apigw.IdentitySource.header('Authorization'),
            validationRegex: '^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9._~+/-]+=*$',
            resultsCacheTtl: Duration.seconds(this.cacheTtlSeconds),
          });
    this.node.addValidation({ validate: () => this.validate() });
  }

  /** Add a method to `resource`, guarded by this authorizer, and record its scopes. */
  addMethod(resource: apigw.IResource, httpMethod: string, integration: apigw.Integration, options: ScopedMethodOptions): apigw.Method {
    const method = resource.addMethod(httpMethod, integration, {
      ...options.methodOptions,
      authorizer: this.authorizer,
      authorizationType: apigw.AuthorizationType.CUSTOM,
    });
    this.routes.push({
      method: httpMethod.toUpperCase() === 'ANY' ? '*' : httpMethod.toUpperCase(),
      path: resource.path,
      scopes: options.scopes,
      ...(options.maxAuthAgeSeconds !== undefined ? { maxAuthAgeSeconds: options.maxAuthAgeSeconds } : {}),
    });
    return method;
  }

  /** The configuration the function reads, as JSON-ready data. */
  configuration(): Record<string, unknown> {
    return {
      issuers: this.props.issuers,
      routes: this.routes,
      clockToleranceSeconds: this.props.clockToleranceSeconds ?? 30,
      policyCacheTtlSeconds: this.cacheTtlSeconds,
    };
  }

  /**
   * The configuration's size against its parameter tier. Deploy-time URLs (the
   * distribution's domain) are measured with a stand-in as long as the longest CloudFront
   * domain, so the check never passes at synth what fails at deploy.
   */
  configurationBytes(): number {
    const config = this.configuration();
    const standIn = (uri: string) =>
      Token.isUnresolved(uri) ? `https://${'d'.repeat(14)}.cloudfront.net/${'x'.repeat(40)}/jwks.json` : uri;
    config.issuers = this.props.issuers.map((i) => ({
      ...i,
      jwksUri: standIn(i.jwksUri),
      jwksFallbackUris: i.jwksFallbackUris?.map(standIn),
    }));
    return Buffer.byteLength(JSON.stringify(config), 'utf8');
  }

  private sizeErrors(): string[] {
    const tier = this.props.parameterTier ?? ssm.ParameterTier.STANDARD;
    const limit = SSM_PARAMETER_LIMIT_BYTES[tier];
    if (limit === undefined) return [`parameterTier ${tier} is not supported: choose STANDARD (4 KB) or ADVANCED (8 KB)`];
    const bytes = this.configurationBytes();
    if (bytes <= limit) return [];
    const hint =
      tier === ssm.ParameterTier.STANDARD && bytes <= 8192
        ? 'set parameterTier: ssm.ParameterTier.ADVANCED (8 KB, charged per parameter), or shorten the route table'
        : 'SSM parameters hold 8 KB at most: split the API across authorizers or shorten the route table';
    return [`the authorizer configuration is ${bytes} bytes, over the ${limit}-byte limit of a ${tier} SSM parameter: ${hint}`];
  }

  private validate(): string[] {
    try {
      // Deploy-time values (the distribution's domain) cannot be checked here: stand in for them.
      const config = this.configuration();
      config.issuers = this.props.issuers.map((i) => ({
        ...i,
        jwksUri: Token.isUnresolved(i.jwksUri) ? 'https://deploy-time.invalid/jwks.json' : i.jwksUri,
      }));
      parseConfig(config);
      const errors = this.routes
        .filter((r) => r.maxAuthAgeSeconds !== undefined && r.maxAuthAgeSeconds <= this.cacheTtlSeconds)
        .map(
          (r) =>
            `${r.method} ${r.path}: maxAuthAgeSeconds (${r.maxAuthAgeSeconds}) must exceed the authorizer cache TTL (${this.cacheTtlSeconds} s), ` +
            'or a cached Allow could outlive it and the route is never allowed',
        );
      if (this.routes.length === 0) errors.push('no method was added through addMethod: every request would be denied');
      errors.push(...this.sizeErrors());
      return errors;
    } catch (error) {
      return [`invalid authorizer configuration: ${(error as Error).message}`];
    }
  }
}
