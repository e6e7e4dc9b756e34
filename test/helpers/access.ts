/**
 * One request evaluated the way AWS evaluates it: the caller's identity policies and the target's resource policy
 * (queue, topic, key or secret policy) from the synthesized template, decided by an independent IAM engine,
 * `@cloud-copilot/iam-simulate` (AGPL-3.0: a devDependency used by tests only, never bundled or imported by lib/,
 * lambdas/, ops/ or bin/). The engine follows "Policy evaluation logic"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an explicit Deny
 * anywhere wins; same-account access needs an Allow in either policy; cross-account access needs both; for KMS
 * the key policy must allow (directly or by delegating to the account).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument, TemplatePolicies } from './template-policies';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface AccessRequest {
  /** A role ARN from the template, another account's role ARN, or a service principal (`cloudwatch.amazonaws.com`). */
  readonly principal: string;
  readonly action: string;
  /** The resource ARN, as the service authorizes it. */
  readonly resource: string;
  /** Request context, e.g. `aws:SecureTransport`, `aws:SourceArn`, `kms:ViaService`. @default TLS only */
  readonly context?: Record<string, string | string[]>;
  /** Identity policies to use instead of the template's (an IoT device policy). */
  readonly identityPolicies?: readonly { name: string; policy: PolicyDocument }[];
  /** The resource policy to use instead of the template's; `null` for none. */
  readonly resourcePolicy?: PolicyDocument | null;
}

/** Evaluates one request; a request the engine cannot evaluate (unknown action, malformed policy) throws. */
export async function decide(policies: TemplatePolicies, request: AccessRequest): Promise<Decision> {
  const resourceAccount = request.resource.split(':')[4] || policies.env.account;
  const resourcePolicy =
    request.resourcePolicy === undefined ? policies.resourcePolicy(request.resource) : request.resourcePolicy;
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: resourceAccount },
        contextVariables: { 'aws:SecureTransport': 'true', ...request.context },
      },
      identityPolicies: [...(request.identityPolicies ?? policies.identityPolicies(request.principal))],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `iam-simulate could not evaluate ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult as Decision;
}
