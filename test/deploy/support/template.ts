import { createHash } from 'node:crypto';
import type { PolicyStatement } from './iam-evaluator';

/** A synthesized CloudFormation template, as `Template.toJSON()` or the assembly gives it. */
export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[] }>;
}

/** Where the fake account lives, and deploy-time values the test decides (e.g. the distribution's domain). */
export interface FakeAccount {
  account: string;
  region: string;
  /** Attribute overrides by `LogicalId.Attribute` (e.g. `JwksDistribution1234.DomainName`) or `LogicalId` for Ref. */
  overrides?: Record<string, string>;
}

const short = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 10);

/**
 * Resolves CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Select`,
 * `Fn::Split`, `Fn::Sub`) to the values a deploy into a fake account would give, the way
 * CloudFormation documents each resource type's `Ref` and attributes. Unknown shapes throw,
 * so a test never silently compares against an unresolved token.
 */
export class TemplateResolver {
  constructor(
    readonly template: CfnTemplate,
    readonly fake: FakeAccount,
  ) {}

  private physicalName(id: string): string {
    const props = this.template.Resources[id]?.Properties ?? {};
    const named = (key: string) => (typeof props[key] === 'string' ? (props[key] as string) : undefined);
    switch (this.template.Resources[id]?.Type) {
      case 'AWS::S3::Bucket':
        return named('BucketName') ?? `scopegate-${short(id)}`;
      case 'AWS::SSM::Parameter':
        return named('Name') ?? `CFN-${id}-${short(id)}`;
      case 'AWS::Lambda::Function':
        return named('FunctionName') ?? `scopegate-${id}`.slice(0, 64);
      case 'AWS::IAM::Role':
        return named('RoleName') ?? `scopegate-${id}`.slice(0, 64);
      case 'AWS::Logs::LogGroup':
        return named('LogGroupName') ?? `/aws/lambda/${id}`;
      case 'AWS::SQS::Queue':
        return `scopegate-${short(id)}`;
      case 'AWS::SNS::Topic':
        return `scopegate-${short(id)}`;
      default:
        return `${id}-${short(id)}`;
    }
  }

  /** The value of `Ref` to a resource or pseudo parameter. */
  ref(id: string): string {
    const override = this.fake.overrides?.[id];
    if (override !== undefined) return override;
    switch (id) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return this.fake.region;
      case 'AWS::AccountId':
        return this.fake.account;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'scopegate-test';
      case 'AWS::NoValue':
        return '';
    }
    const resource = this.template.Resources[id];
    if (resource === undefined) throw new Error(`Ref to unknown ${id}`);
    const { account, region } = this.fake;
    const name = this.physicalName(id);
    switch (resource.Type) {
      case 'AWS::CloudFront::Distribution':
        return `E${short(id).toUpperCase()}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${account}:${name}`;
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
      case 'AWS::Lambda::Version':
        return `arn:aws:lambda:${region}:${account}:function:${this.resolve(resource.Properties?.FunctionName)}:1`;
      default:
        return name;
    }
  }

  /** The value of `Fn::GetAtt [id, attribute]`. */
  getAtt(id: string, attribute: string): string {
    const override = this.fake.overrides?.[`${id}.${attribute}`];
    if (override !== undefined) return override;
    const resource = this.template.Resources[id];
    if (resource === undefined) throw new Error(`GetAtt of unknown ${id}`);
    const { account, region } = this.fake;
    const name = this.physicalName(id);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${name}`;
      case 'AWS::S3::Bucket.RegionalDomainName':
        return `${name}.s3.${region}.amazonaws.com`;
      case 'AWS::S3::Bucket.DomainName':
        return `${name}.s3.amazonaws.com`;
      case 'AWS::Lambda::Function.Arn':
        return `arn:aws:lambda:${region}:${account}:function:${name}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${account}:role/${name}`;
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:aws:logs:${region}:${account}:log-group:${name}:*`;
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws:sqs:${region}:${account}:${name}`;
      case 'AWS::SQS::Queue.QueueName':
        return name;
      case 'AWS::SNS::Topic.TopicArn':
        return this.ref(id);
      case 'AWS::CloudFront::Distribution.DomainName':
        return `d${short(id)}.cloudfront.net`;
      case 'AWS::CloudFront::Distribution.Id':
        return this.ref(id);
      default:
        throw new Error(`no fake for Fn::GetAtt ${key}`);
    }
  }

  /** Resolve every intrinsic in a value. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [[fn, arg]] = entries as [[string, unknown]];
      switch (fn) {
        case 'Ref':
          return this.ref(arg as string);
        case 'Fn::GetAtt': {
          const [id, attribute] = typeof arg === 'string' ? (arg.split('.') as [string, string]) : (arg as [string, string]);
          return this.getAtt(id, attribute);
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number | string, unknown];
          return (this.resolve(list) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(this.resolve(text)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, vars] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
            if (name in vars) return String(this.resolve(vars[name]));
            const [id, attribute] = name.split('.');
            return attribute === undefined ? this.ref(id as string) : this.getAtt(id as string, attribute);
          });
        }
      }
      if (fn.startsWith('Fn::')) throw new Error(`no fake for ${fn}`);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  /** Logical ids of the resources of a type whose properties satisfy `test`. */
  find(type: string, test: (properties: Record<string, unknown>) => boolean = () => true): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type && test(r.Properties ?? {}))
      .map(([id]) => id);
  }

  /** The one Lambda function whose environment has `variable`. */
  functionWithVariable(variable: string): string {
    const ids = this.find('AWS::Lambda::Function', (p) => {
      const vars = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      return variable in vars;
    });
    if (ids.length !== 1) throw new Error(`expected one function with ${variable}, found ${ids.length}`);
    return ids[0] as string;
  }

  /** A function's environment variables, resolved. */
  environmentOf(functionId: string): Record<string, string> {
    const vars = (this.template.Resources[functionId]?.Properties?.Environment as { Variables?: unknown } | undefined)?.Variables ?? {};
    return this.resolve(vars) as Record<string, string>;
  }

  /** The identity policy statements of a function's execution role (inline and AWS::IAM::Policy), resolved. */
  roleStatementsOf(functionId: string): PolicyStatement[] {
    const role = this.template.Resources[functionId]?.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const roleId = role?.['Fn::GetAtt']?.[0];
    if (roleId === undefined) throw new Error(`${functionId} has no role from this template`);
    const roleProps = this.template.Resources[roleId]?.Properties ?? {};
    if (Array.isArray(roleProps.ManagedPolicyArns) && roleProps.ManagedPolicyArns.length > 0) {
      throw new Error(`${roleId} has managed policies; the evaluator does not know their content`);
    }
    const documents: unknown[] = ((roleProps.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((p) => p.PolicyDocument);
    for (const id of this.find('AWS::IAM::Policy')) {
      const props = this.template.Resources[id]?.Properties ?? {};
      const roles = (props.Roles as { Ref?: string }[] | undefined) ?? [];
      if (roles.some((r) => r.Ref === roleId)) documents.push(props.PolicyDocument);
    }
    return documents.flatMap((doc) => {
      const statements = (this.resolve(doc) as { Statement: PolicyStatement | PolicyStatement[] }).Statement;
      return Array.isArray(statements) ? statements : [statements];
    });
  }

  /** The statements of a resource policy (bucket policy, topic policy) attached to `targetId`, resolved. */
  resourcePolicyOf(type: 'AWS::S3::BucketPolicy' | 'AWS::SNS::TopicPolicy', targetId: string): PolicyStatement[] {
    const key = type === 'AWS::S3::BucketPolicy' ? 'Bucket' : 'Topics';
    return this.find(type)
      .filter((id) => JSON.stringify(this.template.Resources[id]?.Properties?.[key]).includes(`"${targetId}"`))
      .flatMap((id) => {
        const statements = (this.resolve(this.template.Resources[id]?.Properties?.PolicyDocument) as { Statement: PolicyStatement[] })
          .Statement;
        return statements;
      });
  }
}
