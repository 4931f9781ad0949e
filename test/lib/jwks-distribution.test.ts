import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { JwksDistribution, NO_STANDARD_LOGGING_REGIONS } from '../../lib/jwks-distribution';
import { testStack } from './helpers';

describe('JwksDistribution', () => {
  const stack = testStack();
  new JwksDistribution(stack, 'Jwks', { defaultTtl: Duration.seconds(60), maxTtl: Duration.seconds(900) });
  const t = Template.fromStack(stack);

  it('keeps the key set bucket private, versioned and TLS-only', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Action: 's3:*' }),
        ]),
      },
    });
  });

  it('serves it over HTTPS only through CloudFront with origin access control', () => {
    t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'https-only', AllowedMethods: ['GET', 'HEAD'] }),
      }),
    });
  });

  it('caches with TTLs tied to the rotation settings', () => {
    t.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ DefaultTTL: 60, MaxTTL: 900, MinTTL: 0 }),
    });
  });

  it('refuses a default TTL longer than the maximum', () => {
    expect(() => new JwksDistribution(testStack(), 'J', { defaultTtl: Duration.hours(2), maxTtl: Duration.hours(1) })).toThrow(/maxTtl/);
  });
});

describe('JwksDistribution: old key sets and standard logging', () => {
  it('expires replaced key sets (noncurrent versions) after 90 days, keeping the three newest', () => {
    const stack = testStack();
    new JwksDistribution(stack, 'Jwks');
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90, NewerNoncurrentVersions: 3 } })],
      },
    });
  });

  const distributionIn = (region: string | undefined) => {
    const app = new App();
    const stack = new Stack(app, 'Jwks', region === undefined ? {} : { env: { account: '111111111111', region } });
    new JwksDistribution(stack, 'Jwks');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth(); // throws on an unacknowledged cdk-nag finding
    const template = Template.fromStack(stack);
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0] as {
      Properties: { DistributionConfig: { Logging?: unknown } };
    };
    return { template, logging: distribution.Properties.DistributionConfig.Logging };
  };

  it('logs to the access-log bucket where CloudFront delivers standard logs', () => {
    expect(distributionIn('eu-west-1').logging).toEqual({
      Bucket: { 'Fn::GetAtt': [expect.stringMatching(/^JwksAccessLogs/), 'RegionalDomainName'] },
      Prefix: 'cloudfront/',
    });
  });

  it.each(['af-south-1', 'ap-east-1', 'eu-south-1', 'me-south-1', 'il-central-1'])(
    'has no standard logging in %s, an opt-in Region CloudFront does not deliver to (a deploy would fail), cdk-nag acknowledged',
    (region) => {
      expect(distributionIn(region).logging).toBeUndefined();
    },
  );

  it('decides at deploy in an environment-agnostic stack: standard logging unless AWS::Region is an opt-in Region', () => {
    const { template, logging } = distributionIn(undefined);
    expect(logging).toEqual({
      'Fn::If': [expect.stringMatching(/InOptInRegion/), { Ref: 'AWS::NoValue' }, expect.objectContaining({ Prefix: 'cloudfront/' })],
    });
    const conditions = JSON.stringify(template.toJSON().Conditions);
    for (const region of ['af-south-1', 'ap-east-1', 'eu-south-1', 'me-south-1', 'ca-west-1']) expect(conditions).toContain(`"${region}"`);
    expect(conditions).not.toContain('"eu-west-1"');
    expect(NO_STANDARD_LOGGING_REGIONS.length).toBeGreaterThan(10); // nested Fn::Or, 10 at most each
  });
});
