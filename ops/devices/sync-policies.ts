/**
 * Bringing the certificates of a pipeline's devices to the stack's current device policies. The stack splits the
 * device permissions over as many policies as the topic filters need (`DevicePolicy`, `DevicePolicy2`, …), and
 * `devices provision` attaches the ones the stack has at that time: a device provisioned before a policy was added
 * lacks it (and the topics it grants), and one provisioned before a policy was dropped still holds it. CloudFormation
 * cannot delete a policy that is attached ("you must detach it from all targets before you can delete it",
 * https://docs.aws.amazon.com/iot/latest/apireference/API_DeletePolicy.html); during a stack update it retries the
 * delete, then abandons it and reports the update successful, leaving the policy behind outside the stack ("Monitor
 * the progress of a stack update",
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-monitor-stack.html).
 *
 * So, for each certificate of each thing tagged `pipeline=<stack>`: attach every current device policy it lacks
 * (AttachPolicy, https://docs.aws.amazon.com/iot/latest/apireference/API_AttachPolicy.html), and detach every
 * policy it holds that is a device policy of this stack by name but no longer a current one. CloudFormation names a
 * policy without an explicit name `<stack>-<logical id>-<random suffix>`, and the device policies' logical ids
 * contain `DevicePolicy`; policies of other origins (fleet provisioning, by hand) are never touched.
 */
import { AttachPolicyCommand, DetachPolicyCommand, type IoTClient } from '@aws-sdk/client-iot';
import { certificateIdOf, thingPrincipals } from './list';
import { attachedPolicies } from './revoke';
import { pipelineThingNames } from './revoke-all';

export interface SyncPoliciesOptions {
  /** The stack name the things carry in their `pipeline` attribute. */
  readonly pipeline: string;
  /** The stack's current device policies (outputs `DevicePolicyName`, `DevicePolicyName2`, …). */
  readonly policyNames: readonly string[];
  /** Report what would change, change nothing. @default false */
  readonly dryRun?: boolean;
}

/** What changed (or, in a dry run, would change) on one certificate. */
export interface SyncedCertificate {
  readonly thingName: string;
  readonly certificateArn: string;
  readonly attached: readonly string[];
  readonly detached: readonly string[];
}

export interface SyncedPolicies {
  /** The certificates that needed a change; those already in sync are only counted. */
  readonly changed: readonly SyncedCertificate[];
  readonly inSync: number;
  /** Things or certificates that could not be read or changed, each with its error; a rerun resumes them. */
  readonly failures: ReadonlyArray<{ readonly name: string; readonly error: string }>;
}

/** Whether a policy name is one CloudFormation gives a device policy of this stack (`<stack>-…DevicePolicy…-<suffix>`). */
export function isStackDevicePolicy(stackName: string, policyName: string): boolean {
  if (!policyName.startsWith(`${stackName}-`)) return false;
  // The logical id holds no "-": a longer stack name sharing this prefix ("<stack>-2-…") does not match
  return /^[A-Za-z0-9]*DevicePolicy[A-Za-z0-9]*-[A-Za-z0-9]+$/.test(policyName.slice(stackName.length + 1));
}

export async function syncDevicePolicies(iot: IoTClient, options: SyncPoliciesOptions): Promise<SyncedPolicies> {
  const current = new Set(options.policyNames);
  const changed: SyncedCertificate[] = [];
  const failures: { name: string; error: string }[] = [];
  let inSync = 0;
  // All names first, as revoke --all does: the listing is not disturbed by what is changed
  for (const thingName of await pipelineThingNames(iot, options.pipeline)) {
    let principals: string[];
    try {
      principals = (await thingPrincipals(iot, thingName)).filter((principal) => certificateIdOf(principal));
    } catch (error) {
      failures.push({ name: thingName, error: (error as Error).message });
      continue;
    }
    for (const certificateArn of principals) {
      try {
        const held = await attachedPolicies(iot, certificateArn);
        const attached = options.policyNames.filter((policy) => !held.includes(policy));
        const detached = held.filter((policy) => !current.has(policy) && isStackDevicePolicy(options.pipeline, policy));
        if (attached.length + detached.length === 0) {
          inSync++;
          continue;
        }
        if (!options.dryRun) {
          // New permissions first: a device never has fewer topics than before while the change is under way
          for (const policyName of attached)
            await iot.send(new AttachPolicyCommand({ policyName, target: certificateArn }));
          for (const policyName of detached)
            await iot.send(new DetachPolicyCommand({ policyName, target: certificateArn }));
        }
        changed.push({ thingName, certificateArn, attached, detached });
      } catch (error) {
        failures.push({ name: `${thingName} ${certificateArn}`, error: (error as Error).message });
      }
    }
  }
  return { changed, inSync, failures };
}
