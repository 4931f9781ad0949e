import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { JwksDistribution } from '../../lib/jwks-distribution';
import { RotationChecker } from '../../lib/rotation-checker';
import { testStack } from './helpers';

describe('RotationChecker', () => {
  const stack = testStack();
  const distribution = new JwksDistribution(stack, 'Jwks');
  const topic = new sns.Topic(stack, 'Topic', { enforceSSL: true });
  new RotationChecker(stack, 'Rotation', {
    issuer: 'https://idp.test/realms/ops',
    distribution,
    objectKey: 'ops/jwks.json',
    schedule: Duration.minutes(15),
    alarmTopic: topic,
  });
  const t = Template.fromStack(stack);

  it('runs on an EventBridge Scheduler rate schedule', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(15 minutes)', State: 'ENABLED' });
  });

  it('may touch only its object, its distribution and its state parameter', () => {
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }).Properties.PolicyDocument
            .Statement,
      )
      .map((s) => JSON.stringify(s));
    expect(statements.some((s) => s.includes('"s3:GetObject","s3:PutObject"') && s.includes('/ops/jwks.json'))).toBe(true);
    expect(statements.some((s) => s.includes('cloudfront:CreateInvalidation') && s.includes(':distribution/'))).toBe(true);
    expect(statements.some((s) => s.includes('"ssm:GetParameter","ssm:PutParameter"'))).toBe(true);
    expect(statements.filter((s) => s.includes('"Resource":"*"'))).toEqual([]);
  });

  it('passes the issuer and the mirror to the function', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ISSUER: 'https://idp.test/realms/ops', MIRROR_KEY: 'ops/jwks.json', MAX_KEY_AGE_DAYS: '90' }),
      },
    });
  });

  it('alarms to the topic on error findings, failed runs (filled, so a crash with no findings counts) and missing runs', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Topic') }],
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(findings, 0) + FILL(failures, 0) + IF(FILL(runs, 0) < 1, 1, 0)' })]),
    });
  });

  it('may list its bucket, so that S3 answers a missing mirror with 404 rather than 403', () => {
    const statements = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(statements).toContain('"Action":"s3:ListBucket"');
  });

  it('runs once at deploy, after the distribution exists', () => {
    const triggers = t.findResources('Custom::Trigger');
    expect(Object.keys(triggers)).toHaveLength(1);
    const dependsOn = (Object.values(triggers)[0] as { DependsOn?: string[] }).DependsOn ?? [];
    expect(dependsOn.some((id) => /JwksDistribution/.test(id))).toBe(true);
  });

  it('sends failed scheduled runs to an encrypted, TLS-only queue', () => {
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailedRuns'), 'Arn'] } } },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });
});

describe('RotationChecker: trust and logs', () => {
  const stack = testStack();
  new RotationChecker(stack, 'Rotation', {
    issuer: 'https://idp.test/realms/ops',
    distribution: new JwksDistribution(stack, 'Jwks'),
    objectKey: 'ops/jwks.json',
  });
  const t = Template.fromStack(stack);

  it("lets EventBridge Scheduler assume its role only for this account's schedules (aws:SourceAccount)", () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
          },
        ],
      },
    });
  });

  it("sends the CDK trigger provider's logs to a log group with a retention", () => {
    const functions = t.findResources('AWS::Lambda::Function') as Record<
      string,
      { Properties: { LoggingConfig?: { LogGroup: { Ref: string } } } }
    >;
    const provider = Object.entries(functions).find(([id]) => id.startsWith('AWSCDKTrigger'))?.[1];
    const groupId = provider?.Properties.LoggingConfig?.LogGroup.Ref;
    expect(groupId).toEqual(expect.any(String));
    const group = t.findResources('AWS::Logs::LogGroup')[groupId as string] as { Properties: { RetentionInDays: number } };
    expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('gives the one trigger provider of a stack one log group, however many checkers it has', () => {
    const two = testStack();
    const distribution = new JwksDistribution(two, 'Jwks');
    for (const name of ['a', 'b'])
      new RotationChecker(two, `Rotation-${name}`, { issuer: `https://idp.test/${name}`, distribution, objectKey: `${name}/jwks.json` });
    const template = Template.fromStack(two);
    const ofProvider = (type: string) => Object.keys(template.findResources(type)).filter((id) => id.startsWith('AWSCDKTrigger'));
    expect(ofProvider('AWS::Lambda::Function')).toHaveLength(1);
    expect(ofProvider('AWS::Logs::LogGroup')).toHaveLength(1);
  });
});
