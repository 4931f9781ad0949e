import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 's3/',
      removalPolicy,
    });
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
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
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

  /** The HTTPS URL of an object of the distribution, e.g. `ops/jwks.json`. */
  urlOf(objectKey: string): string {
    return `https://${this.distribution.distributionDomainName}/${objectKey}`;
  }
}
