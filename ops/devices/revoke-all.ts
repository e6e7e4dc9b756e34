/**
 * Revoking every device of a pipeline, so that `cdk destroy` can delete the device policy: CloudFormation's delete of
 * an `AWS::IoT::Policy` fails while any certificate is attached to it (DeletePolicy: "you must detach it from all
 * targets before you can delete it", https://docs.aws.amazon.com/iot/latest/apireference/API_DeletePolicy.html).
 *
 * Two sources, because either alone can miss something:
 * 1. things with the `pipeline=<stack>` attribute (what `devices provision` creates): each is revoked as
 *    `devices revoke <name>` does it (certificates deactivated, detached, deleted; then the thing);
 * 2. what is still attached to any of the device policies afterwards (ListTargetsForPolicy,
 *    https://docs.aws.amazon.com/iot/latest/apireference/API_ListTargetsForPolicy.html): targets the pipeline did
 *    not create, or cannot prove it did. A certificate attached by fleet provisioning or by hand may carry other
 *    policies and serve another purpose, so by default each only loses this pipeline's policies, its thing, its
 *    status and its other policies untouched. With `deleteOrphanCertificates`, a certificate that no thing holds is
 *    deactivated, detached from every policy (IoT deletes no certificate with a policy attached) and deleted.
 *
 * A device that fails does not stop the others; its certificates are left for a rerun, which resumes it.
 */
import {
  DeleteCertificateCommand,
  DetachPolicyCommand,
  type IoTClient,
  ListTargetsForPolicyCommand,
  ListThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { certificateIdOf, thingPrincipals } from './list';
import { collectPages } from './pages';
import { PIPELINE_ATTRIBUTE } from './provision';
import { type RetryOptions, retryWhile, stillAttached } from './retry';
import { attachedPolicies, principalThings, type RevokedDevice, revokeDevice } from './revoke';

export interface RevokePipelineOptions {
  /** The stack name the things carry in their `pipeline` attribute. */
  readonly pipeline: string;
  /**
   * The stack's device policies (outputs `DevicePolicyName`, `DevicePolicyName2`, …).
   * @default [] (only the tagged things are revoked)
   */
  readonly policyNames?: readonly string[];
  /**
   * Delete the certificates attached to a device policy that no thing holds (after detaching all their policies,
   * this pipeline's and any other) instead of only detaching this pipeline's policies. @default false
   */
  readonly deleteOrphanCertificates?: boolean;
  /** Also delete each device's credential files under `outDir`. @default false */
  readonly deleteFiles?: boolean;
  readonly outDir?: string;
  readonly retry?: RetryOptions;
}

/** What happened to a policy target that belongs to no thing of the pipeline. */
export interface OtherTarget {
  readonly target: string;
  /**
   * `detached`: only this pipeline's policies were detached from it; `deleted`: a certificate no thing holds,
   * deleted because `deleteOrphanCertificates` was set.
   */
  readonly action: 'deleted' | 'detached';
  /** This pipeline's policies that were attached to it. */
  readonly detached: readonly string[];
  /** The things outside the pipeline that hold it, when detached. */
  readonly heldBy?: readonly string[];
}

export interface RevokedPipeline {
  readonly devices: readonly RevokedDevice[];
  readonly otherTargets: readonly OtherTarget[];
  /**
   * Devices (by thing name) and other policy targets (by principal ARN) that could not be revoked or freed, each with
   * the error that says how to resume.
   */
  readonly failures: ReadonlyArray<{ readonly name: string; readonly error: string }>;
  /** What is still attached to a device policy at the end (must be empty for `cdk destroy`); null without policies. */
  readonly remainingTargets: readonly string[] | null;
}

export async function revokePipelineDevices(iot: IoTClient, options: RevokePipelineOptions): Promise<RevokedPipeline> {
  // All names first: deleting things while paging through ListThings could shift the pages
  const names = await pipelineThingNames(iot, options.pipeline);
  const devices: RevokedDevice[] = [];
  const failures: { name: string; error: string }[] = [];
  const kept = new Set<string>();
  for (const name of names) {
    try {
      devices.push(await revokeDevice(iot, { ...options, name }));
    } catch (error) {
      failures.push({ name, error: (error as Error).message });
      // Its certificates belong to a pipeline thing: left for the rerun, never handled as someone else's
      for (const principal of await thingPrincipals(iot, name).catch(() => [])) kept.add(principal);
    }
  }
  const policyNames = options.policyNames ?? [];
  if (policyNames.length === 0) return { devices, otherTargets: [], failures, remainingTargets: null };

  const otherTargets: OtherTarget[] = [];
  for (const [target, policies] of await targetsOf(iot, policyNames)) {
    if (kept.has(target)) continue;
    // One target that fails (throttled, denied) must not abort the rest nor lose the report of what was revoked
    try {
      otherTargets.push(await freeTarget(iot, policies, target, options));
    } catch (error) {
      failures.push({ name: target, error: (error as Error).message });
    }
  }
  return { devices, otherTargets, failures, remainingTargets: [...(await targetsOf(iot, policyNames)).keys()] };
}

/** Each target of any of the policies, with which of them it holds. */
async function targetsOf(iot: IoTClient, policyNames: readonly string[]): Promise<Map<string, string[]>> {
  const targets = new Map<string, string[]>();
  for (const policyName of policyNames)
    for (const target of await policyTargets(iot, policyName))
      targets.set(target, [...(targets.get(target) ?? []), policyName]);
  return targets;
}

async function freeTarget(
  iot: IoTClient,
  policies: readonly string[],
  target: string,
  options: Pick<RevokePipelineOptions, 'deleteOrphanCertificates' | 'retry'>,
): Promise<OtherTarget> {
  const certificateId = certificateIdOf(target);
  const heldBy = certificateId ? await principalThings(iot, target) : [];
  if (!certificateId || heldBy.length > 0 || !options.deleteOrphanCertificates) {
    for (const policyName of policies) await iot.send(new DetachPolicyCommand({ policyName, target }));
    return { target, action: 'detached', detached: policies, ...(heldBy.length > 0 ? { heldBy } : {}) };
  }
  // Deactivated first, as revokeDevice does: cut off at once, whatever fails later
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' })).catch((error: unknown) => {
    if ((error as Error).name !== 'CertificateStateException') throw error;
  });
  for (const attached of await attachedPolicies(iot, target)) {
    await iot.send(new DetachPolicyCommand({ policyName: attached, target }));
  }
  await retryWhile(stillAttached, () => iot.send(new DeleteCertificateCommand({ certificateId })), options.retry);
  return { target, action: 'deleted', detached: policies };
}

/** The names of the things tagged `pipeline=<stack>`, every page. */
export function pipelineThingNames(iot: IoTClient, pipeline: string): Promise<string[]> {
  return collectPages(async (nextToken) => {
    const page = await iot.send(
      new ListThingsCommand({
        attributeName: PIPELINE_ATTRIBUTE,
        attributeValue: pipeline,
        maxResults: 100,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    return { items: page.things?.flatMap((thing) => (thing.thingName ? [thing.thingName] : [])), next: page.nextToken };
  });
}

function policyTargets(iot: IoTClient, policyName: string): Promise<string[]> {
  return collectPages(async (marker) => {
    const page = await iot.send(new ListTargetsForPolicyCommand({ policyName, ...(marker ? { marker } : {}) }));
    return { items: page.targets, next: page.nextMarker };
  });
}
