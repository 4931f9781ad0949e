import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { JwksDistribution } from '../../lib/jwks-distribution';
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
