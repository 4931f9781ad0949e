import {
  Annotations,
  Aws,
  CfnCondition,
  Duration,
  Fn,
  type ICfnConditionExpression,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';

/**
 * The Regions CloudFront's standard logging (legacy) does not deliver to: the opt-in Regions
 * (CloudFront Developer Guide, "Choose an Amazon S3 bucket for standard logs": af-south-1,
 * ap-east-1, eu-south-1, me-south-1 and the opt-in Regions opened since), as aws-cdk-lib's
 * region facts list them.
 */
export const NO_STANDARD_LOGGING_REGIONS: readonly string[] = RegionInfo.regions.filter((r) => r.isOptInRegion).map((r) => r.name);

/** Properties of {@link JwksDistribution}. */
export interface JwksDistributionProps {
  /**
   * How long the edge keeps a key set when the object says nothing longer: tie it to the
   * rotation settings, below the issuer's pre-publication window.
   * @default Duration.minutes(5)
   */
  readonly defaultTtl?: Duration;
  /**
   * The longest the edge may keep a key set, whatever the object says.
   * @default Duration.hours(1)
   */
  readonly maxTtl?: Duration;
  /**
   * Keep the buckets when the stack is deleted.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * How long a replaced key set stays in the versioned bucket (its noncurrent versions; the
   * three newest are kept whatever their age), for a rollback or an audit of what was served.
   * @default Duration.days(90)
   */
  readonly replacedKeySetRetention?: Duration;
}

/**
 * A private, versioned S3 bucket (public access blocked, TLS enforced) behind CloudFront
 * with origin access control, HTTPS only, serving the verified key sets the rotation
 * checker publishes, so that many authorizers read keys from the edge.
 */
export class JwksDistribution extends Construct {
  /** The bucket the rotation checkers publish to. */
  readonly bucket: s3.IBucket;
  /** The distribution that serves the bucket. */
  readonly distribution: cloudfront.IDistribution;
  /** The distribution's cache policy. */
  readonly cachePolicy: cloudfront.ICachePolicy;

  constructor(scope: Construct, id: string, props: JwksDistributionProps = {}) {
    super(scope, id);
    const removalPolicy = props.retain === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the key set bucket and the distribution; logging it into itself would loop.',
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      // The checker writes a key set only when it changed; each replaced one is kept this long.
      lifecycleRules: [
        {
          id: 'ExpireReplacedKeySets',
          noncurrentVersionExpiration: props.replacedKeySetRetention ?? Duration.days(90),
          noncurrentVersionsToRetain: 3,
        },
      ],
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 's3/',
      removalPolicy,
    });
    // CloudFront standard logging (legacy) into the access-log bucket, except where CloudFront
    // does not deliver it: a log bucket in an opt-in Region fails the deploy. There the
    // distribution has no standard logging (standard logging v2 would need log delivery
    // resources in us-east-1, outside this stack); the key set bucket's S3 server access logs
    // and CloudTrail remain. A Region known at synth decides here; an environment-agnostic
    // stack decides at deploy, by a condition on AWS::Region.
    const region = Token.isUnresolved(Stack.of(this).region) ? undefined : Stack.of(this).region;
    const standardLogging = region === undefined || !NO_STANDARD_LOGGING_REGIONS.includes(region);
    const defaultTtl = props.defaultTtl ?? Duration.seconds(300);
    const maxTtl = props.maxTtl ?? Duration.seconds(3600);
    if (defaultTtl.toSeconds() > maxTtl.toSeconds()) throw new Error('defaultTtl must not exceed maxTtl');
    this.cachePolicy = new cloudfront.CachePolicy(this, 'CachePolicy', {
      comment: 'scopegate JWKS: short TTL tied to the rotation settings',
      defaultTtl,
      minTtl: Duration.seconds(0),
      maxTtl,
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'scopegate JWKS mirror',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: this.cachePolicy,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(standardLogging ? { enableLogging: true, logBucket: logs, logFilePrefix: 'cloudfront/' } : {}),
    });
    if (region === undefined) this.standardLoggingOutsideOptInRegions(logs);
    if (!standardLogging) {
      Annotations.of(this).addInfo(
        `CloudFront standard logging is off: CloudFront does not deliver it to a bucket in ${region}, an opt-in Region`,
      );
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR3',
        reason: `CloudFront standard logging (legacy) does not deliver to a bucket in ${region}, an opt-in Region; the key set bucket keeps its S3 server access logs.`,
      });
    }
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'Public signing keys are meant to be readable from anywhere an authorizer runs; no geo restriction.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'Read-only public key sets behind a cache; a WAF web ACL can be added by the operator where policy requires it.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'Uses the default *.cloudfront.net certificate, whose TLS policy CloudFront sets; a custom domain and certificate allow TLSv1.2_2021.',
    });
  }

  /** In an environment-agnostic stack: standard logging unless the stack is deployed to an opt-in Region. */
  private standardLoggingOutsideOptInRegions(logs: s3.IBucket): void {
    const cfn = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
    const optIn = new CfnCondition(this, 'InOptInRegion', {
      expression: anyOf(NO_STANDARD_LOGGING_REGIONS.map((r) => Fn.conditionEquals(Aws.REGION, r))),
    });
    // The Logging that enableLogging renders, kept outside the opt-in Regions only.
    const logging = { Bucket: logs.bucketRegionalDomainName, Prefix: 'cloudfront/' };
    cfn.addPropertyOverride('DistributionConfig.Logging', Fn.conditionIf(optIn.logicalId, Aws.NO_VALUE, logging));
  }

  /** The HTTPS URL of an object of the distribution, e.g. `ops/jwks.json`. */
  urlOf(objectKey: string): string {
    return `https://${this.distribution.distributionDomainName}/${objectKey}`;
  }
}

/** Fn::Or of any number of conditions (Fn::Or takes 2 to 10). */
function anyOf(conditions: ICfnConditionExpression[]): ICfnConditionExpression {
  if (conditions.length === 1) return conditions[0] as ICfnConditionExpression;
  if (conditions.length <= 10) return Fn.conditionOr(...conditions);
  const groups: ICfnConditionExpression[] = [];
  for (let i = 0; i < conditions.length; i += 10) groups.push(anyOf(conditions.slice(i, i + 10)));
  return anyOf(groups);
}
