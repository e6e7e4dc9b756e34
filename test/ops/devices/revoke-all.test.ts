/**
 * Revoking every device of a pipeline before `cdk destroy`: CloudFormation cannot delete the device policy while a
 * certificate is attached to it, so every target of the policy must be gone or detached first.
 */
import {
  DeleteCertificateCommand,
  DeleteThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ThrottlingException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { beforeEach, describe, expect, it } from 'vitest';
import { revokePipelineDevices } from '../../../ops/devices';
import { awsError, certArn, givenPipelineThings, iot, iotMock, sentCommands } from './iot-mock';

const POLICY = 'TelemetryPipeline-dev-DevicePolicy';
const FLEET_POLICY = 'FleetProvisioningDevicePolicy';
const [A, B, ORPHAN, FOREIGN] = [certArn('aaaa'), certArn('bbbb'), certArn('0ddba11'), certArn('f0e1')];

/** Targets of the device policy: what is still attached when each ListTargetsForPolicy call is made. */
let policyTargets: string[];

beforeEach(() => {
  iotMock.reset();
  policyTargets = [A, B, ORPHAN, FOREIGN];
  givenPipelineThings({ 'sensor-1': [A], 'sensor-2': [B] });
  iotMock
    .on(ListPrincipalThingsCommand, { principal: A })
    .resolves({ things: ['sensor-1'] })
    .on(ListPrincipalThingsCommand, { principal: B })
    .resolves({ things: ['sensor-2'] })
    .on(ListPrincipalThingsCommand, { principal: ORPHAN })
    .resolves({ things: [] })
    .on(ListPrincipalThingsCommand, { principal: FOREIGN })
    .resolves({ things: ['hand-made-thing'] });
  iotMock
    .on(ListAttachedPoliciesCommand)
    .resolves({ policies: [{ policyName: POLICY }] })
    // the orphan certificate also holds a policy of fleet provisioning, not this pipeline's
    .on(ListAttachedPoliciesCommand, { target: ORPHAN })
    .resolves({ policies: [{ policyName: POLICY }, { policyName: FLEET_POLICY }] });
  iotMock.on(DetachPolicyCommand).callsFake((input: { target: string }) => {
    policyTargets = policyTargets.filter((target) => target !== input.target);
    return {};
  });
  iotMock.on(ListTargetsForPolicyCommand).callsFake(() => ({ targets: [...policyTargets] }));
  iotMock.on(UpdateCertificateCommand).resolves({});
  iotMock.on(DetachThingPrincipalCommand).resolves({});
  iotMock.on(DeleteCertificateCommand).resolves({});
  iotMock.on(DeleteThingCommand).resolves({});
});

describe('revokePipelineDevices', () => {
  it('revokes every thing tagged with the pipeline, then frees the device policy of every other target', async () => {
    // Given two pipeline things (on two ListThings pages), a certificate on the policy that no thing holds, and one
    // that a thing outside the pipeline holds
    // When every device of the pipeline is revoked
    const result = await revokePipelineDevices(iot(), {
      pipeline: 'TelemetryPipeline-dev',
      policyNames: [POLICY],
      retry: { delayMs: 0 },
    });

    // Then both things and their certificates are gone
    expect(result.devices.map((d) => d.thingName)).toEqual(['sensor-1', 'sensor-2']);
    const calls = sentCommands();
    expect(calls).toContainEqual([
      'ListThings',
      { attributeName: 'pipeline', attributeValue: 'TelemetryPipeline-dev', maxResults: 100 },
    ]);
    for (const thingName of ['sensor-1', 'sensor-2']) expect(calls).toContainEqual(['DeleteThing', { thingName }]);
    // And the certificate no thing holds (fleet provisioning, by hand) only loses this pipeline's policy: it stays
    // active, and keeps its other policies
    expect(calls).toContainEqual(['DetachPolicy', { policyName: POLICY, target: ORPHAN }]);
    expect(calls).not.toContainEqual(['DetachPolicy', { policyName: FLEET_POLICY, target: ORPHAN }]);
    expect(calls).not.toContainEqual(['UpdateCertificate', { certificateId: '0ddba11', newStatus: 'INACTIVE' }]);
    expect(calls).not.toContainEqual(['DeleteCertificate', { certificateId: '0ddba11' }]);
    // And the certificate of the thing outside the pipeline only loses this pipeline's policy
    expect(calls).toContainEqual(['DetachPolicy', { policyName: POLICY, target: FOREIGN }]);
    expect(calls).not.toContainEqual(['UpdateCertificate', { certificateId: 'f0e1', newStatus: 'INACTIVE' }]);
    expect(calls).not.toContainEqual(['DeleteCertificate', { certificateId: 'f0e1' }]);
    expect(result.otherTargets).toEqual([
      { target: ORPHAN, action: 'detached', detached: [POLICY] },
      { target: FOREIGN, action: 'detached', detached: [POLICY], heldBy: ['hand-made-thing'] },
    ]);
    // And nothing is attached to the policy any more, so CloudFormation can delete it
    expect(result.remainingTargets).toEqual([]);
    expect(result.failures).toEqual([]);
    expect(policyTargets).toEqual([]);
  });

  it('deletes a certificate no thing holds only with deleteOrphanCertificates, detaching all its policies', async () => {
    // When every device is revoked with deleteOrphanCertificates
    const result = await revokePipelineDevices(iot(), {
      pipeline: 'TelemetryPipeline-dev',
      policyNames: [POLICY],
      deleteOrphanCertificates: true,
      retry: { delayMs: 0 },
    });

    // Then the orphan certificate is deactivated, detached from every policy (its own ones too) and deleted
    const calls = sentCommands();
    expect(calls).toContainEqual(['UpdateCertificate', { certificateId: '0ddba11', newStatus: 'INACTIVE' }]);
    expect(calls).toContainEqual(['DetachPolicy', { policyName: FLEET_POLICY, target: ORPHAN }]);
    expect(calls).toContainEqual(['DeleteCertificate', { certificateId: '0ddba11' }]);
    // And the one a thing outside the pipeline holds still only loses this pipeline's policy
    expect(calls).not.toContainEqual(['DeleteCertificate', { certificateId: 'f0e1' }]);
    expect(result.otherTargets).toEqual([
      { target: ORPHAN, action: 'deleted', detached: [POLICY] },
      { target: FOREIGN, action: 'detached', detached: [POLICY], heldBy: ['hand-made-thing'] },
    ]);
    expect(result.remainingTargets).toEqual([]);
  });

  it('frees every device policy of the stack, each target of only the policies it holds', async () => {
    // Given two device policies: the foreign certificate holds both, the pipeline's certificates the first only
    const POLICY2 = 'TelemetryPipeline-dev-DevicePolicy2';
    const targets: Record<string, string[]> = { [POLICY]: [A, B, FOREIGN], [POLICY2]: [FOREIGN] };
    iotMock
      .on(ListTargetsForPolicyCommand)
      .callsFake((input: { policyName: string }) => ({ targets: [...(targets[input.policyName] ?? [])] }));
    iotMock.on(DetachPolicyCommand).callsFake((input: { policyName: string; target: string }) => {
      targets[input.policyName] = (targets[input.policyName] ?? []).filter((t) => t !== input.target);
      return {};
    });

    // When every device of the pipeline is revoked with both policies
    const result = await revokePipelineDevices(iot(), {
      pipeline: 'TelemetryPipeline-dev',
      policyNames: [POLICY, POLICY2],
      retry: { delayMs: 0 },
    });

    // Then the foreign certificate loses both policies and nothing else, and neither policy has a target left
    expect(result.otherTargets).toEqual([
      { target: FOREIGN, action: 'detached', detached: [POLICY, POLICY2], heldBy: ['hand-made-thing'] },
    ]);
    expect(sentCommands()).toContainEqual(['ListTargetsForPolicy', { policyName: POLICY2 }]);
    expect(result.remainingTargets).toEqual([]);
    expect(targets).toEqual({ [POLICY]: [], [POLICY2]: [] });
  });

  it('goes on past a device that fails, and reports it with what is still attached to the policy', async () => {
    // Given deactivating sensor-1's certificate is throttled
    iotMock
      .on(UpdateCertificateCommand, { certificateId: 'aaaa' })
      .rejects(awsError(ThrottlingException, 'Rate exceeded'));

    // When every device of the pipeline is revoked
    const result = await revokePipelineDevices(iot(), {
      pipeline: 'TelemetryPipeline-dev',
      policyNames: [POLICY],
      retry: { delayMs: 0 },
    });

    // Then sensor-2 is revoked, sensor-1 reported with how to rerun, and its certificate left on the policy
    expect(result.devices.map((d) => d.thingName)).toEqual(['sensor-2']);
    expect(result.failures).toEqual([
      { name: 'sensor-1', error: expect.stringMatching(/deactivate certificate aaaa.*Rate exceeded.*again/) },
    ]);
    // sensor-1's certificate is left for the rerun: it belongs to a pipeline thing, so it is not treated as an orphan
    expect(sentCommands()).not.toContainEqual(['DetachPolicy', { policyName: POLICY, target: A }]);
    expect(result.remainingTargets).toEqual([A]);
  });

  it('goes on past a policy target that fails, keeping the report of the devices already revoked', async () => {
    // Given detaching the policy from the orphan certificate is throttled
    iotMock.on(DetachPolicyCommand, { target: ORPHAN }).rejects(awsError(ThrottlingException, 'Rate exceeded'));

    // When every device of the pipeline is revoked
    const result = await revokePipelineDevices(iot(), {
      pipeline: 'TelemetryPipeline-dev',
      policyNames: [POLICY],
      retry: { delayMs: 0 },
    });

    // Then both devices are still reported revoked, the other target is freed, and the orphan is a failure
    expect(result.devices.map((d) => d.thingName)).toEqual(['sensor-1', 'sensor-2']);
    expect(result.otherTargets).toEqual([
      { target: FOREIGN, action: 'detached', detached: [POLICY], heldBy: ['hand-made-thing'] },
    ]);
    expect(result.failures).toEqual([{ name: ORPHAN, error: expect.stringContaining('Rate exceeded') }]);
    expect(result.remainingTargets).toEqual([ORPHAN]);
  });

  it('revokes the tagged things only when the policy name is unknown (stack outputs gone)', async () => {
    // Given no policy name (the stack outputs are gone)
    // When every device of the pipeline is revoked
    const result = await revokePipelineDevices(iot(), { pipeline: 'TelemetryPipeline-dev', retry: { delayMs: 0 } });
    // Then both tagged things are revoked and no policy target is looked at
    expect(result.devices).toHaveLength(2);
    expect(iotMock.commandCalls(ListTargetsForPolicyCommand)).toHaveLength(0);
    expect(result.remainingTargets).toBeNull();
  });
});
