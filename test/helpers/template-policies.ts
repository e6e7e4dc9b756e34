/**
 * Turns a synthesized CloudFormation template into the concrete policies AWS would evaluate: every intrinsic
 * resolved to the physical names and ARNs CloudFormation would give, identity policies gathered per role, resource
 * policies (queue, topic, key, secret) keyed by the ARN they protect. Test-only: the access matrix feeds these to an
 * IAM engine (`access.ts`).
 *
 * Physical names follow CloudFormation's shapes (ARN formats from the Service Authorization Reference, "Resource
 * types defined by …" of each service: https://docs.aws.amazon.com/service-authorization/latest/reference/); a
 * generated name is `<stack>-<logicalId>`, which is what CloudFormation's `<stack>-<logicalId>-<random>` reduces to
 * for every pattern the policies use.
 */
import { createHash } from 'node:crypto';

export interface TemplateEnvironment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

/** Used where the template is environment-agnostic (`AWS::AccountId`, `AWS::Region` left to deploy time). */
export const AGNOSTIC_ENVIRONMENT: TemplateEnvironment = {
  account: '111122223333',
  region: 'eu-west-1',
  partition: 'aws',
};

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[];
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

/** The random suffix Secrets Manager appends to a secret's name in its ARN. */
export const SECRET_SUFFIX = 'AbCdEf';

const PSEUDO: Record<string, (env: TemplateEnvironment, stack: string) => string> = {
  'AWS::AccountId': (env) => env.account,
  'AWS::Region': (env) => env.region,
  'AWS::Partition': (env) => env.partition,
  'AWS::URLSuffix': () => 'amazonaws.com',
  'AWS::StackName': (_, stack) => stack,
};

export class TemplatePolicies {
  public readonly env: TemplateEnvironment;
  private readonly resources: Record<string, CfnResource>;

  public constructor(
    public readonly template: CfnTemplate,
    public readonly stackName: string,
    env: Partial<TemplateEnvironment> = {},
  ) {
    this.env = { ...AGNOSTIC_ENVIRONMENT, ...env };
    this.resources = template.Resources;
  }

  /** Logical ids of every resource of a type. */
  public logicalIdsOf(type: string): string[] {
    return Object.entries(this.resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id]) => id);
  }

  /** A resource's properties with every intrinsic resolved. */
  public properties(logicalId: string): Record<string, unknown> {
    const resource = this.resource(logicalId);
    return this.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  }

  /** Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split` and pseudo parameters. */
  public resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && first[0].startsWith('Fn::')) return this.intrinsic(first[0], first[1]);
    if (entries.length === 1 && first && first[0] === 'Ref') return this.ref(String(first[1]));
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
  }

  /** The ARN CloudFormation's `Fn::GetAtt [id, Arn]` would return. */
  public arnOf(logicalId: string): string {
    return this.getAtt(logicalId, 'Arn');
  }

  /** Identity policies of a role (inline, attached `AWS::IAM::Policy`, customer managed), by role ARN. */
  public identityPolicies(roleArn: string): { name: string; policy: PolicyDocument }[] {
    const roleId = this.logicalIdsOf('AWS::IAM::Role').find((id) => this.arnOf(id) === roleArn);
    if (!roleId) return [];
    const role = this.properties(roleId);
    const roleName = this.ref(roleId);
    const inline = ((role.Policies ?? []) as { PolicyName: string; PolicyDocument: PolicyDocument }[]).map((p) => ({
      name: p.PolicyName,
      policy: p.PolicyDocument,
    }));
    const attached = this.logicalIdsOf('AWS::IAM::Policy')
      .map((id) => this.properties(id))
      .filter((p) => ((p.Roles ?? []) as string[]).includes(roleName))
      .map((p) => ({ name: String(p.PolicyName), policy: p.PolicyDocument as PolicyDocument }));
    const managed = ((role.ManagedPolicyArns ?? []) as string[]).map((arn) => {
      const id = this.logicalIdsOf('AWS::IAM::ManagedPolicy').find((m) => this.ref(m) === arn);
      if (!id) throw new Error(`${roleArn} attaches ${arn}, which this template does not define`);
      return { name: arn, policy: this.properties(id).PolicyDocument as PolicyDocument };
    });
    return [...inline, ...attached, ...managed];
  }

  /** Every inline or customer-managed identity policy document in the template, with the role(s) it applies to. */
  public allIdentityPolicyDocuments(): { name: string; kind: 'inline' | 'managed'; policy: PolicyDocument }[] {
    const attached = this.logicalIdsOf('AWS::IAM::Policy').map((id) => ({
      name: id,
      kind: 'inline' as const,
      policy: this.properties(id).PolicyDocument as PolicyDocument,
    }));
    const managed = this.logicalIdsOf('AWS::IAM::ManagedPolicy').map((id) => ({
      name: id,
      kind: 'managed' as const,
      policy: this.properties(id).PolicyDocument as PolicyDocument,
    }));
    const inRoles = this.logicalIdsOf('AWS::IAM::Role').flatMap((id) =>
      ((this.properties(id).Policies ?? []) as { PolicyName: string; PolicyDocument: PolicyDocument }[]).map((p) => ({
        name: `${id}/${p.PolicyName}`,
        kind: 'inline' as const,
        policy: p.PolicyDocument,
      })),
    );
    return [...attached, ...inRoles, ...managed];
  }

  /** The trust policy of a role, by ARN (the resource policy of `sts:AssumeRole`). */
  public trustPolicy(roleArn: string): PolicyDocument | undefined {
    const roleId = this.logicalIdsOf('AWS::IAM::Role').find((id) => this.arnOf(id) === roleArn);
    return roleId ? (this.properties(roleId).AssumeRolePolicyDocument as PolicyDocument) : undefined;
  }

  /**
   * The resource policy protecting an ARN, if the template defines one: queue and topic policies, key policies,
   * secret resource policies. A KMS key the template does not define gets the default key policy (below).
   */
  public resourcePolicy(arn: string): PolicyDocument | undefined {
    for (const id of this.logicalIdsOf('AWS::SQS::QueuePolicy')) {
      const p = this.properties(id);
      const arns = (p.Queues as string[]).map((url) => this.queueArnFromUrl(url));
      if (arns.includes(arn)) return p.PolicyDocument as PolicyDocument;
    }
    for (const id of this.logicalIdsOf('AWS::SNS::TopicPolicy')) {
      const p = this.properties(id);
      if ((p.Topics as string[]).includes(arn)) return p.PolicyDocument as PolicyDocument;
    }
    for (const id of this.logicalIdsOf('AWS::SecretsManager::ResourcePolicy')) {
      const p = this.properties(id);
      if (p.SecretId === arn) return p.ResourcePolicy as PolicyDocument;
    }
    for (const id of this.logicalIdsOf('AWS::KMS::Key')) {
      if (this.arnOf(id) === arn) return this.properties(id).KeyPolicy as PolicyDocument;
    }
    if (/^arn:[^:]+:kms:/.test(arn)) return defaultKeyPolicy(arn);
    return undefined;
  }

  /** Size of a policy document as IAM/SNS/SQS count it: its JSON without whitespace outside strings. */
  public static compactLength(document: unknown): number {
    return JSON.stringify(document).length;
  }

  private resource(logicalId: string): CfnResource {
    const resource = this.resources[logicalId];
    if (!resource) throw new Error(`No resource ${logicalId} in the template`);
    return resource;
  }

  private queueArnFromUrl(url: string): string {
    const match = /^https:\/\/sqs\.([^.]+)\.amazonaws\.com\/(\d{12})\/(.+)$/.exec(url);
    if (!match) throw new Error(`Not a queue URL: ${url}`);
    return `arn:${this.env.partition}:sqs:${match[1]}:${match[2]}:${match[3]}`;
  }

  private intrinsic(name: string, args: unknown): unknown {
    switch (name) {
      case 'Fn::Join': {
        const [separator, parts] = args as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).map(String).join(separator);
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof args === 'string' ? args.split('.') : (args as string[]);
        return this.getAtt(String(id), String(attribute));
      }
      case 'Fn::Select': {
        const [index, list] = args as [number, unknown];
        return (this.resolve(list) as unknown[])[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, source] = args as [string, unknown];
        return String(this.resolve(source)).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables = {}] = typeof args === 'string' ? [args, {}] : (args as [string, object]);
        const vars = this.resolve(variables) as Record<string, string>;
        return text.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
          if (key in vars) return String(vars[key]);
          const [id, attribute] = key.split('.');
          return attribute ? this.getAtt(String(id), attribute) : String(this.ref(key));
        });
      }
      default:
        throw new Error(`Intrinsic ${name} is not supported by the test resolver`);
    }
  }

  private ref(id: string): string {
    if (id === 'AWS::NoValue') throw new Error('AWS::NoValue is not supported by the test resolver');
    const pseudo = PSEUDO[id];
    if (pseudo) return pseudo(this.env, this.stackName);
    const resource = this.resource(id);
    const { partition, region, account } = this.env;
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${account}/${this.name(id, 'QueueName')}`;
      case 'AWS::SNS::Topic':
      case 'AWS::SecretsManager::Secret':
        return this.arnOf(id);
      case 'AWS::KMS::Key':
        return keyId(id);
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${partition}:iam::${account}:policy/${this.name(id, 'ManagedPolicyName')}`;
      case 'AWS::IAM::Role':
        return this.name(id, 'RoleName');
      case 'AWS::Lambda::Function':
        return this.name(id, 'FunctionName');
      case 'AWS::IoT::TopicRule':
        return this.name(id, 'RuleName');
      case 'AWS::IoT::Policy':
        return this.name(id, 'PolicyName');
      case 'AWS::CloudWatch::Alarm':
        return this.name(id, 'AlarmName');
      case 'AWS::Logs::LogGroup':
        return this.name(id, 'LogGroupName');
      default:
        return id;
    }
  }

  private getAtt(id: string, attribute: string): string {
    const resource = this.resource(id);
    const { partition, region, account } = this.env;
    const arns: Record<string, () => string> = {
      'AWS::SQS::Queue': () => `arn:${partition}:sqs:${region}:${account}:${this.name(id, 'QueueName')}`,
      'AWS::SNS::Topic': () => `arn:${partition}:sns:${region}:${account}:${this.name(id, 'TopicName')}`,
      'AWS::KMS::Key': () => `arn:${partition}:kms:${region}:${account}:key/${keyId(id)}`,
      'AWS::SecretsManager::Secret': () =>
        `arn:${partition}:secretsmanager:${region}:${account}:secret:${this.name(id, 'Name')}-${SECRET_SUFFIX}`,
      'AWS::IAM::Role': () => `arn:${partition}:iam::${account}:role/${this.name(id, 'RoleName')}`,
      'AWS::Logs::LogGroup': () => `arn:${partition}:logs:${region}:${account}:log-group:${this.ref(id)}:*`,
      'AWS::Lambda::Function': () => `arn:${partition}:lambda:${region}:${account}:function:${this.ref(id)}`,
      'AWS::CloudWatch::Alarm': () => `arn:${partition}:cloudwatch:${region}:${account}:alarm:${this.ref(id)}`,
      'AWS::IoT::TopicRule': () => `arn:${partition}:iot:${region}:${account}:rule/${this.ref(id)}`,
    };
    if (attribute === 'Arn' || attribute === 'TopicArn') {
      const arn = arns[resource.Type];
      if (!arn) throw new Error(`The test resolver has no ARN format for ${resource.Type}`);
      return arn();
    }
    if (attribute === 'QueueName' || attribute === 'TopicName') return this.name(id, attribute);
    if (attribute === 'QueueUrl') return this.ref(id);
    throw new Error(`The test resolver does not know ${resource.Type}.${attribute}`);
  }

  /** The physical name: the property when set, else what CloudFormation generates. */
  private name(id: string, property: string): string {
    const given = this.resource(id).Properties?.[property];
    if (given !== undefined) return String(this.resolve(given));
    const generated = `${this.stackName}-${id}`;
    return this.resource(id).Type === 'AWS::Logs::LogGroup' ? `/aws/lambda/${generated}` : generated;
  }
}

/** A stable key id for a logical id (KMS key ids are UUIDs). */
function keyId(logicalId: string): string {
  const hex = createHash('sha256').update(logicalId).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The key policy KMS gives a key created without one: the account may use IAM policies to allow access ("Default
 * key policy", https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). Stands in for a
 * customer-managed key the user brings (an imported secret's key).
 */
export function defaultKeyPolicy(keyArn: string): PolicyDocument {
  const [, partition, , , account] = keyArn.split(':');
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}
