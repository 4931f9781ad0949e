import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArnFormat, CfnOutput, Duration, Lazy, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DEFAULT_ROUTE_PATH, parseConfig, type RouteDocument } from '../core/config';
import { FieldErrors, httpsUrl } from '../core/config/fields';
import { ConfigError } from '../core/errors';
import { isJsonObject, jsonErrorPosition } from '../core/json';
import { Dimension, MetricName } from '../core/metrics';
import { DISCOVERY_SUFFIX } from '../core/oidc-discovery';
import { parseOpenApiText, readOpenApiRoutes } from '../core/openapi';
import { Reason } from '../core/reasons';
import { SenderConstraint } from './introspection';
import type { ScopeAuthorizerIssuer } from './issuer';
import { JwksDistribution } from './jwks-distribution';
import { ScopegateMetrics } from './metrics';
import { RotationChecker } from './rotation-checker';
import { ScopeAuthorizer } from './scope-authorizer';
import { AuthorizerMode, type ScopeAuthorizerProps, type ScopedMethodOptions, type ScopedRoute } from './scope-authorizer-props';

/** A valid issuer the route rows are checked beside (only the rows' own errors are reported). */
const STAND_IN_ISSUER = { issuer: 'https://issuer.invalid', jwksUri: 'https://issuer.invalid/jwks.json', audience: 'stand-in' };

/** An issuer name: the mirror object `NAME/jwks.json`, the rotation checker's id, part of output names. */
const ISSUER_NAME = /^[a-z0-9-]+$/;

/** A row of a {@link RouteTable}: the configuration's route, and whether an OpenAPI document made it public. */
interface TableRow {
  readonly row: RouteDocument;
  /** `security: []` in the OpenAPI document: no token asked, the authorizer not attached. */
  readonly public: boolean;
}

/**
 * A route table: what each route of an API requires of a token. Read and checked when it is
 * made, with every bad row named at once (`routes[3].path: {p+} must be the last segment`),
 * by the validator the authorizer's own configuration uses.
 */
export class RouteTable {
  /** Rows given in code. */
  static fromRoutes(routes: ScopedRoute[]): RouteTable {
    return new RouteTable(
      'the route table',
      routes.map((route) => ({ row: routeDocument(route), public: false })),
      undefined,
    );
  }

  /**
   * A JSON file: a list of routes as the configuration writes them (`examples/routes.json`:
   * `method`, `path`, `scopes` or `anyOf`, `maxAuthAgeSeconds`, `enforcement`,
   * `acceptOverDeny`), or an object whose one member is that list, `{"routes": [...]}`. A
   * relative path is read from the working directory (the project's, under `cdk synth`).
   */
  static fromFile(file: string): RouteTable {
    const errors = new FieldErrors();
    let raw: unknown;
    const text = errors.check(() => readText(file));
    if (text !== undefined) {
      try {
        raw = JSON.parse(text);
      } catch {
        errors.add('(root)', `not valid JSON: syntax error at ${jsonErrorPosition(text)}`);
      }
    }
    let rows: unknown[] = [];
    if (Array.isArray(raw)) rows = raw;
    else if (isJsonObject(raw)) {
      for (const key of Object.keys(raw)) {
        if (key !== 'routes') {
          errors.add(key, 'a route table file holds routes only (issuers and settings come from cdk.json or the construct)');
        }
      }
      if (Array.isArray(raw.routes)) rows = raw.routes;
      else errors.add('routes', 'must be a list');
    } else if (raw !== undefined) errors.add('(root)', 'must be a list of routes, or an object with "routes"');
    errors.throwIfAny(file);
    return new RouteTable(
      file,
      rows.map((row) => ({ row: row as RouteDocument, public: false })),
      undefined,
    );
  }

  /**
   * The route table an OpenAPI 3 document's `security` requirements give (the parsed object,
   * or a YAML or JSON file), read as `scopegate routes --openapi` reads it. Public operations
   * (`security: []`) ask no token.
   */
  static fromOpenApi(document: string | Record<string, unknown>): RouteTable {
    const source = typeof document === 'string' ? document : 'the OpenAPI document';
    const errors = new FieldErrors();
    let parsed: Record<string, unknown> | undefined;
    let routes: ReturnType<typeof readOpenApiRoutes> = [];
    try {
      parsed = typeof document === 'string' ? (parseOpenApiText(readText(document), document) as Record<string, unknown>) : document;
      routes = readOpenApiRoutes(parsed);
    } catch (error) {
      if (error instanceof ConfigError) errors.errors.push(error);
      else errors.add('(document)', (error as Error).message);
    }
    errors.throwIfAny(source);
    return new RouteTable(
      source,
      routes.map(({ public: isPublic, ...route }) => ({ row: route as RouteDocument, public: isPublic })),
      parsed,
    );
  }

  /** Where the table came from: the file, or a description. */
  readonly source: string;
  /** The OpenAPI document the table was read from, when it was ({@link ScopeAuthorizer.specRestApi} deploys one). */
  readonly openApiDocument: Record<string, unknown> | undefined;
  private readonly rows: readonly TableRow[];

  private constructor(source: string, rows: TableRow[], openApiDocument: Record<string, unknown> | undefined) {
    this.source = source;
    this.rows = rows;
    this.openApiDocument = openApiDocument;
    const errors = new FieldErrors();
    // Each row alone, so that every bad row is named; then the whole table (duplicates).
    rows.forEach(({ row }, i) => {
      try {
        parseConfig({ issuers: [STAND_IN_ISSUER], routes: [row] });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        errors.add(error.field.replace(/^routes\[0\]/, `routes[${i}]`), error.message.slice(error.field.length + 2));
      }
    });
    if (errors.errors.length === 0) errors.check(() => parseConfig({ issuers: [STAND_IN_ISSUER], routes: rows.map((r) => r.row) }));
    errors.throwIfAny(source);
  }

  /** The routes as the configuration writes them (`maxAuthAgeSeconds` in seconds), public ones with no scopes. */
  get routeDocuments(): RouteDocument[] {
    return this.rows.map(({ row }) => structuredClone(row));
  }

  /** The routes as the constructs take them (`maxAuthAge` a `Duration`), public ones with no scopes. */
  get routes(): ScopedRoute[] {
    return this.rows.map(({ row }) => scopedRoute(row));
  }

  /** The routes of public operations (`security: []` in an OpenAPI document). */
  get publicRoutes(): ScopedRoute[] {
    return this.rows.filter((r) => r.public).map(({ row }) => scopedRoute(row));
  }
}

/** The field of an error about a route table file as a whole (it cannot be read). */
export const FILE_FIELD = '(file)';

/** A file's text; a file that cannot be read is a {@link ConfigError}. */
function readText(file: string): string {
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (error) {
    throw new ConfigError(FILE_FIELD, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function routeDocument(route: ScopedRoute): RouteDocument {
  const upper = route.method.toUpperCase();
  const row: RouteDocument = { method: upper === 'ANY' ? '*' : upper, path: route.path };
  if (route.anyOf !== undefined) row.anyOf = route.anyOf.map((set) => [...set]);
  else row.scopes = [...(route.scopes ?? [])];
  if (route.maxAuthAge !== undefined) row.maxAuthAgeSeconds = route.maxAuthAge.toSeconds();
  if (route.enforcement !== undefined) row.enforcement = route.enforcement;
  if (route.acceptOverDeny !== undefined) row.acceptOverDeny = route.acceptOverDeny;
  return row;
}

function scopedRoute(row: RouteDocument): ScopedRoute {
  return {
    method: row.method,
    path: row.path,
    ...(row.anyOf !== undefined ? { anyOf: row.anyOf.map((set) => [...set]) } : { scopes: [...(row.scopes ?? [])] }),
    ...(row.maxAuthAgeSeconds !== undefined ? { maxAuthAge: Duration.seconds(row.maxAuthAgeSeconds) } : {}),
    ...(row.enforcement !== undefined ? { enforcement: row.enforcement } : {}),
    ...(row.acceptOverDeny !== undefined ? { acceptOverDeny: row.acceptOverDeny } : {}),
  };
}

/**
 * A trusted issuer of {@link Scopegate}: the authorizer's issuer settings, a short name, and
 * where its keys come from (its OIDC discovery document, or `originJwksUri`). The authorizer
 * reads the mirror's copy first, then the issuer's own key set.
 */
export interface ScopegateIssuer extends Omit<ScopeAuthorizerIssuer, 'jwksUri' | 'jwksFallbackUris'> {
  /**
   * Short name, lower-case letters, digits and dashes: the mirror object is `NAME/jwks.json`,
   * the rotation checker `Rotation-NAME`, the output `MirrorUrlName`.
   */
  readonly name: string;
  /**
   * The issuer's own key set URL (https), when it has no OIDC discovery document.
   * @default - `{issuer}/.well-known/openid-configuration`'s `jwks_uri`
   */
  readonly originJwksUri?: string;
}

/** The rotation checkers' settings (one checker per issuer). */
export interface ScopegateRotationOptions {
  /**
   * How often each checker audits its issuer.
   * @default Duration.hours(1)
   */
  readonly schedule?: Duration;
  /**
   * Report keys older than this (`key_age_exceeded`).
   * @default Duration.days(90)
   */
  readonly maxKeyAge?: Duration;
  /**
   * Report key set caching longer than this (`cache_ttl_too_long`); also the edge's max TTL.
   * @default Duration.hours(1)
   */
  readonly maxCacheTtl?: Duration;
  /**
   * The mirror object's `Cache-Control: max-age` and the edge's default TTL; at most `maxCacheTtl`.
   * @default Duration.minutes(5)
   */
  readonly mirrorTtl?: Duration;
}

/** The authorizer's settings: {@link ScopeAuthorizerProps} without the issuers (the {@link Scopegate}'s) and tracing. */
export interface ScopegateAuthorizerOptions extends Omit<ScopeAuthorizerProps, 'issuers' | 'tracing'> {}

/** An API and its route table, guarded by one authorizer of a {@link Scopegate}. */
export interface ScopegateApiOptions {
  /**
   * The route table. Without `api`, it is the authorizer's configuration only, for an API
   * defined elsewhere that calls the function (its ARN is an output): a request no route
   * matches is denied (`unrouted` `DENY`, unless set). With `api`, each route becomes a
   * method of the API, guarded by the authorizer.
   * @default - none: attach methods yourself (`scopegate.authorizer.addMethod`, `specRestApi`, `addHttpRoutes`)
   */
  readonly routes?: RouteTable;
  /**
   * The REST API the route table's methods are added to (a `RestApi` of the app, or one
   * imported with its root resource id), each with `integration`. Public routes of an OpenAPI
   * table get a method without the authorizer.
   * @default - none
   */
  readonly api?: apigw.IRestApi;
  /**
   * Where the methods made from the route table send their requests. Required with `api` and `routes`.
   * @default - none
   */
  readonly integration?: apigw.Integration;
  /**
   * Anything else of those methods (request validator, method responses…).
   * @default - none
   */
  readonly methodOptions?: ScopedMethodOptions['methodOptions'];
  /**
   * The authorizer's settings.
   * @default - the ScopeAuthorizer's defaults
   */
  readonly authorizerOptions?: ScopegateAuthorizerOptions;
}

/** Properties of {@link Scopegate}. */
export interface ScopegateProps extends ScopegateApiOptions {
  /** The trusted issuers. */
  readonly issuers: ScopegateIssuer[];
  /**
   * The rotation checkers' settings.
   * @default - the RotationChecker's defaults
   */
  readonly rotation?: ScopegateRotationOptions;
  /**
   * Where every alarm goes.
   * @default - a new SNS topic (TLS only; this account's CloudWatch alarms may publish)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * An address subscribed to the alarm topic.
   * @default - none
   */
  readonly alarmEmail?: string;
  /**
   * A short name of this deployment (an environment: `dev`, `prod`), in the alarm topic's
   * display name and the dashboard's name (`scopegate-NAME`).
   * @default - none: a generated dashboard name
   */
  readonly name?: string;
  /**
   * X-Ray active tracing of the functions.
   * @default false
   */
  readonly tracing?: boolean;
}

/**
 * scopegate as one construct: the JWKS mirror ({@link JwksDistribution}), a
 * {@link RotationChecker} per issuer (seeded at deploy), the {@link ScopeAuthorizer} with the
 * mirror first and the issuer second as key sources, the route table on your API (or as the
 * authorizer's configuration for an API elsewhere), alarms to an SNS topic, a dashboard, and
 * the outputs an operator needs: the function's ARN, its log group, the mirror's URLs and the
 * cache TTL in effect. `addApi` guards another API with its own authorizer, sharing the mirror.
 */
export class Scopegate extends Construct {
  /** The key set mirror. */
  readonly distribution: JwksDistribution;
  /** One rotation checker per issuer, by issuer name. */
  readonly checkers: Record<string, RotationChecker> = {};
  /** The authorizer of `props.api` / `props.routes` (and of whatever you attach to it). */
  readonly authorizer: ScopeAuthorizer;
  /** Where every alarm goes. */
  readonly alarmTopic: sns.ITopic;
  /** The authorizers' and APIs' alarms, by id (the rotation checkers carry their own). */
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  /** The dashboard: decisions by reason, latency, key set fetches, rotation findings, alarms. */
  readonly dashboard: cloudwatch.Dashboard;
  private readonly props: ScopegateProps;

  constructor(scope: Construct, id: string, props: ScopegateProps) {
    super(scope, id);
    this.props = props;
    checkProps(props);
    const rotation = props.rotation ?? {};
    this.distribution = new JwksDistribution(this, 'Jwks', { defaultTtl: rotation.mirrorTtl, maxTtl: rotation.maxCacheTtl });
    this.alarmTopic = props.alarmTopic ?? this.topic();
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    for (const issuer of props.issuers) {
      this.checkers[issuer.name] = new RotationChecker(this, `Rotation-${issuer.name}`, {
        issuer: issuer.issuer,
        originJwksUri: issuer.originJwksUri,
        distribution: this.distribution,
        objectKey: objectKeyOf(issuer),
        schedule: rotation.schedule,
        maxKeyAge: rotation.maxKeyAge,
        maxCacheTtl: rotation.maxCacheTtl,
        mirrorTtl: rotation.mirrorTtl,
        alarmTopic: this.alarmTopic,
        tracing: props.tracing,
      });
    }
    for (const issuer of props.issuers) {
      new CfnOutput(this, `MirrorUrl${pascal(issuer.name)}`, {
        value: this.mirrorUrlOf(issuer.name),
        description: `The JWKS mirror of ${issuer.name} (scopegate audit --mirror)`,
      });
    }

    this.authorizer = this.guard(this, 'ScopeAuthorizer', '', props);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.name === undefined ? undefined : `scopegate-${props.name}`,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Decisions by reason',
            width: 12,
            left: [ScopegateMetrics.search(MetricName.Decisions, [Dimension.Reason], 'decisions')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Authorizer latency (ms)',
            width: 12,
            left: [
              this.authorizer.function.metricDuration({ statistic: 'p50', label: 'Lambda p50' }),
              this.authorizer.function.metricDuration({ statistic: 'p99', label: 'Lambda p99' }),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'JWKS fetches',
            width: 12,
            left: [ScopegateMetrics.search(MetricName.JwksFetches, [Dimension.Outcome], 'fetches')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Rotation findings',
            width: 12,
            left: [ScopegateMetrics.search(MetricName.Findings, [Dimension.Code, Dimension.Issuer], 'findings')],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Would deny (report-only)',
            width: 24,
            left: [ScopegateMetrics.searchAll(MetricName.WouldDeny, 'would deny')],
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            width: 24,
            alarms: [...Object.values(this.checkers).map((c) => c.alarm), ...Object.values(this.alarms)],
          }),
        ],
      ],
    });
  }

  /** The mirror's URL of an issuer's key set (`https://DOMAIN/NAME/jwks.json`). */
  mirrorUrlOf(issuerName: string): string {
    return this.distribution.urlOf(`${issuerName}/jwks.json`);
  }

  /**
   * Guard another API with its own authorizer (one authorizer per API: its route table is that
   * API's), trusting the same issuers through the same mirror, with its own alarms and
   * outputs under `id`.
   */
  addApi(id: string, options: ScopegateApiOptions): ScopeAuthorizer {
    const scope = new Construct(this, id);
    const authorizer = this.guard(scope, 'ScopeAuthorizer', id, options);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${id}: authorizer latency (ms)`,
        width: 12,
        left: [
          authorizer.function.metricDuration({ statistic: 'p50', label: 'Lambda p50' }),
          authorizer.function.metricDuration({ statistic: 'p99', label: 'Lambda p99' }),
        ],
      }),
      new cloudwatch.AlarmStatusWidget({
        title: `${id}: alarms`,
        width: 12,
        alarms: Object.entries(this.alarms)
          .filter(([name]) => name.startsWith(id))
          .map(([, alarm]) => alarm),
      }),
    );
    return authorizer;
  }

  /** An authorizer over the issuers' mirror URLs, its route table attached, its alarms and outputs. */
  private guard(scope: Construct, id: string, prefix: string, options: ScopegateApiOptions): ScopeAuthorizer {
    checkApiOptions(this.props, options);
    const authorizer = new ScopeAuthorizer(scope, id, {
      ...options.authorizerOptions,
      tracing: this.props.tracing,
      issuers: this.props.issuers.map(({ name, originJwksUri, issuer, ...settings }) => ({
        issuer,
        jwksUri: this.mirrorUrlOf(name),
        // The mirror first; the issuer itself when the mirror is not seeded yet or lacks a
        // key the issuer signs with as soon as it publishes it (docs/deploying.md).
        jwksFallbackUris: [originJwksUri ?? `${issuer.replace(/\/$/, '')}${DISCOVERY_SUFFIX}`],
        ...settings,
      })),
    });
    const { routes, api, integration, methodOptions } = options;
    if (routes !== undefined && api === undefined) authorizer.addRoutes(routes.routes);
    if (routes !== undefined && api !== undefined && integration !== undefined) {
      const publicRoutes = new Set(routes.publicRoutes.map((r) => `${r.method} ${r.path}`));
      for (const route of routes.routes) {
        const resource = api.root.resourceForPath(route.path);
        const httpMethod = route.method === '*' ? 'ANY' : route.method;
        if (publicRoutes.has(`${route.method} ${route.path}`)) {
          resource.addMethod(httpMethod, integration, { ...methodOptions, authorizationType: apigw.AuthorizationType.NONE });
        } else authorizer.addMethod(resource, httpMethod, integration, { ...route, methodOptions });
      }
    }
    this.addAlarms(scope, prefix, authorizer, api);
    new CfnOutput(scope, `${prefix}AuthorizerFunctionArn`, {
      value: authorizer.function.functionArn,
      description: 'The scopegate authorizer function, for APIs defined elsewhere',
    });
    new CfnOutput(scope, `${prefix}AuthorizerLogGroupName`, {
      value: authorizer.logGroup.logGroupName,
      description: "The authorizer's log group: one JSON line per decision (docs/operations.md, why was a request denied)",
    });
    new CfnOutput(scope, `${prefix}AuthorizerCacheTtlSeconds`, {
      value: Lazy.string({ produce: () => String(authorizer.cacheTtlSeconds) }),
      description:
        'The API Gateway authorizer cache TTL the configuration assumes (0: uncached); an authorizer defined elsewhere must not cache longer',
    });
    return authorizer;
  }

  /** A topic the alarms may publish to: TLS only, and only this account's CloudWatch alarms. */
  private topic(): sns.Topic {
    const name = this.props.name;
    const topic = new sns.Topic(this, 'Alarms', {
      displayName: name === undefined ? 'scopegate alarms' : `scopegate ${name} alarms`,
      enforceSSL: true,
    });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key; alarm messages carry no secrets.',
    });
    // enforceSSL writes a topic policy, which replaces SNS's default one: without an Allow
    // for CloudWatch, alarms could not publish. Only this account's alarms may.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': topic.stack.account },
          ArnLike: {
            'aws:SourceArn': topic.stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return topic;
  }

  /** Alarms on an authorizer (and its API), each to the topic; what to do is in docs/deploying.md. */
  private addAlarms(scope: Construct, prefix: string, authorizer: ScopeAuthorizer, api: apigw.IRestApi | undefined): void {
    const fiveMinutes = Duration.minutes(5);
    const atLeastOnce = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const alarm = new cloudwatch.Alarm(scope, `${prefix}${id}`, {
        alarmDescription: `scopegate: ${description} See docs/deploying.md, "Alarms".`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      this.alarms[`${prefix}${id}`] = alarm;
    };
    const fn = authorizer.function;
    atLeastOnce(
      'KeysUnavailableAlarm',
      ScopegateMetrics.decisions(Reason.KeysUnavailable, fiveMinutes),
      'requests failed with 503 because no key set (mirror nor issuer) could be fetched.',
    );
    atLeastOnce(
      'ConfigUnavailableAlarm',
      ScopegateMetrics.decisions(Reason.ConfigUnavailable, fiveMinutes),
      'requests failed with 503 because the authorizer configuration could not be read or is invalid.',
    );
    // Only where an issuer introspects: elsewhere no request can fail that way.
    if (this.props.issuers.some((issuer) => issuer.introspection !== undefined)) {
      atLeastOnce(
        'IntrospectionUnavailableAlarm',
        ScopegateMetrics.decisions(Reason.IntrospectionUnavailable, fiveMinutes),
        'requests failed with 503 because an introspection endpoint did not answer.',
      );
    }
    // Lambda's Errors metric counts every 401 too (the contract makes a 401 a thrown
    // Error), so unexpected failures are read from what explains them: internal_error
    // decisions, and invocations that ran into the function's timeout.
    const timeoutMs = authorizer.timeout.toMilliseconds();
    atLeastOnce(
      'AuthorizerErrorsAlarm',
      new cloudwatch.MathExpression({
        expression: `FILL(internal, 0) + IF(FILL(longest, 0) >= ${timeoutMs * 0.95}, 1, 0)`,
        usingMetrics: {
          internal: ScopegateMetrics.decisions(Reason.Internal, fiveMinutes),
          longest: fn.metricDuration({ period: fiveMinutes, statistic: 'Maximum' }),
        },
        label: 'internal errors and timeouts',
        period: fiveMinutes,
      }),
      'the authorizer failed unexpectedly (internal_error decisions, or an invocation that timed out).',
    );
    atLeastOnce(
      'AuthorizerThrottlesAlarm',
      fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      'authorizer invocations were throttled.',
    );
    if (api instanceof apigw.RestApiBase) {
      atLeastOnce('Api5xxAlarm', api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }), 'the API answered 5xx.');
    }
  }
}

/** The mirror object of an issuer. */
function objectKeyOf(issuer: ScopegateIssuer): string {
  return `${issuer.name}/jwks.json`;
}

/** `partners-eu` → `PartnersEu`, for output ids. */
function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Every mistake in the props, at once. */
function checkProps(props: ScopegateProps): void {
  const errors = new FieldErrors();
  if (props.issuers.length === 0) errors.add('issuers', 'must be a non-empty list');
  const names = new Map<string, number>();
  props.issuers.forEach((issuer, i) => {
    const field = `issuers[${i}]`;
    if (!ISSUER_NAME.test(issuer.name)) errors.add(`${field}.name`, 'must be lower-case letters, digits and dashes');
    const before = names.get(issuer.name);
    if (before !== undefined) errors.add(`${field}.name`, `duplicates issuers[${before}].name (each issuer has its own mirror object)`);
    names.set(issuer.name, i);
    // The checker discovers the issuer's keys from it and the authorizer falls back to it:
    // https for every profile, whatever the profile derives.
    if (!Token.isUnresolved(issuer.issuer)) errors.check(() => httpsUrl(issuer.issuer, `${field}.issuer`));
    if (issuer.originJwksUri !== undefined) errors.check(() => httpsUrl(issuer.originJwksUri, `${field}.originJwksUri`));
  });
  errors.throwIfAny('Scopegate');
}

/** What an API's options cannot be, at once. */
function checkApiOptions(props: ScopegateProps, options: ScopegateApiOptions): void {
  const errors = new FieldErrors();
  const mode = options.authorizerOptions?.mode ?? AuthorizerMode.TOKEN;
  const cacheTtlSeconds = mode === AuthorizerMode.REQUEST ? 0 : (options.authorizerOptions?.cacheTtl ?? Duration.seconds(300)).toSeconds();
  props.issuers.forEach((issuer, i) => {
    if (issuer.senderConstraint !== SenderConstraint.REQUIRED) return;
    // A TOKEN authorizer sees no request to check a binding against, and a cached answer
    // would outlive the proof: every token would be refused.
    if (mode !== AuthorizerMode.REQUEST && (options.api !== undefined || cacheTtlSeconds > 0)) {
      errors.add(
        `issuers[${i}].senderConstraint`,
        'REQUIRED refuses every token of a TOKEN authorizer: set authorizerOptions.mode to AuthorizerMode.REQUEST (or, for an HTTP API defined elsewhere, cacheTtl 0)',
      );
    }
  });
  if (options.api !== undefined && options.routes !== undefined) {
    if (options.integration === undefined) errors.add('integration', "is required to add the route table's methods to the API");
    options.routes.routes.forEach((route, i) => {
      if (route.path === DEFAULT_ROUTE_PATH)
        errors.add(`routes[${i}].path`, '$default is an HTTP API route; a REST API has no such resource');
    });
  }
  errors.throwIfAny('Scopegate');
}

/**
 * An access log format for a REST API stage guarded by scopegate: the standard fields, what
 * API Gateway says of the authorizer (`authorizer.status`, `.latency`, `.integrationStatus`,
 * `.integrationLatency`, `.requestId`, `.error`) and of its answer (`error.responseType`:
 * `UNAUTHORIZED`, `ACCESS_DENIED`, `AUTHORIZER_CONFIGURATION_ERROR`…), and the authorizer's
 * context (`principalId`, `clientId`, `scope`, `issuer`). A denial answered from API Gateway's
 * authorizer cache leaves no line in the authorizer's log: this line is its trace
 * (docs/operations.md).
 */
export function scopegateAccessLogFormat(): apigw.AccessLogFormat {
  return apigw.AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      requestTime: '$context.requestTime',
      httpMethod: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      path: '$context.path',
      status: '$context.status',
      protocol: '$context.protocol',
      responseLength: '$context.responseLength',
      error: { responseType: '$context.error.responseType', message: '$context.error.message' },
      authorizer: {
        status: '$context.authorizer.status',
        latency: '$context.authorizer.latency',
        integrationStatus: '$context.authorizer.integrationStatus',
        integrationLatency: '$context.authorizer.integrationLatency',
        requestId: '$context.authorizer.requestId',
        error: '$context.authorizer.error',
        principalId: '$context.authorizer.principalId',
        clientId: '$context.authorizer.clientId',
        scope: '$context.authorizer.scope',
        issuer: '$context.authorizer.issuer',
      },
    }),
  );
}
