/**
 * Bringing provisioned devices to the stack's current device policies: a policy added to the stack after a device
 * was provisioned is attached to it, one the stack dropped is detached (CloudFormation cannot delete an attached
 * policy), and policies of other origins stay.
 */
import {
  AttachPolicyCommand,
  DetachPolicyCommand,
  ListAttachedPoliciesCommand,
  ThrottlingException,
} from '@aws-sdk/client-iot';
import { beforeEach, describe, expect, it } from 'vitest';
import { isStackDevicePolicy, syncDevicePolicies } from '../../../ops/devices';
import { awsError, certArn, givenPipelineThings, iot, iotMock, sentCommands } from './iot-mock';

const STACK = 'TelemetryPipeline-dev';
const POLICY = `${STACK}-IngestDevicePolicy1A2B3C4D-ABC123`;
const POLICY2 = `${STACK}-IngestDevicePolicy2E5F6A7B8-DEF456`;
const POLICY3 = `${STACK}-IngestDevicePolicy3C9D0E1F2-GHI789`;
const FLEET_POLICY = 'FleetProvisioningDevicePolicy';
const [A, B] = [certArn('aaaa'), certArn('bbbb')];

/** The policies each certificate holds, changed by the attach and detach calls. */
let held: Record<string, string[]>;

beforeEach(() => {
  iotMock.reset();
  // sensor-1 was provisioned when the stack had POLICY and POLICY3; sensor-2 is current and also holds fleet's
  held = { [A]: [POLICY, POLICY3], [B]: [POLICY, POLICY2, FLEET_POLICY] };
  givenPipelineThings({ 'sensor-1': [A], 'sensor-2': [B] });
  iotMock.on(ListAttachedPoliciesCommand).callsFake((input: { target: string }) => ({
    policies: (held[input.target] ?? []).map((policyName) => ({ policyName })),
  }));
  iotMock.on(AttachPolicyCommand).callsFake((input: { policyName: string; target: string }) => {
    held[input.target] = [...(held[input.target] ?? []), input.policyName];
    return {};
  });
  iotMock.on(DetachPolicyCommand).callsFake((input: { policyName: string; target: string }) => {
    held[input.target] = (held[input.target] ?? []).filter((policy) => policy !== input.policyName);
    return {};
  });
});

describe('syncDevicePolicies', () => {
  it("attaches the stack's new device policy and detaches the dropped one, leaving other policies alone", async () => {
    // Given the stack now has POLICY and POLICY2 (POLICY3 dropped)
    // When the devices are synced
    const result = await syncDevicePolicies(iot(), { pipeline: STACK, policyNames: [POLICY, POLICY2] });

    // Then sensor-1 gains POLICY2 (before it loses anything) and loses POLICY3; sensor-2 is already in sync
    expect(result.changed).toEqual([
      { thingName: 'sensor-1', certificateArn: A, attached: [POLICY2], detached: [POLICY3] },
    ]);
    expect(result.inSync).toBe(1);
    expect(result.failures).toEqual([]);
    expect(sentCommands().filter(([name]) => name === 'AttachPolicy' || name === 'DetachPolicy')).toEqual([
      ['AttachPolicy', { policyName: POLICY2, target: A }],
      ['DetachPolicy', { policyName: POLICY3, target: A }],
    ]);
    expect(held).toEqual({ [A]: [POLICY, POLICY2], [B]: [POLICY, POLICY2, FLEET_POLICY] });
  });

  it('changes nothing in a dry run, and reports what it would change', async () => {
    // Given sensor-1 holds POLICY and an old POLICY3, not POLICY2 (above)
    // When policies are synced in a dry run
    const result = await syncDevicePolicies(iot(), { pipeline: STACK, policyNames: [POLICY, POLICY2], dryRun: true });
    // Then the change is reported and nothing attached or detached
    expect(result.changed).toEqual([
      { thingName: 'sensor-1', certificateArn: A, attached: [POLICY2], detached: [POLICY3] },
    ]);
    expect(iotMock.commandCalls(AttachPolicyCommand)).toHaveLength(0);
    expect(iotMock.commandCalls(DetachPolicyCommand)).toHaveLength(0);
  });

  it('goes on past a certificate that fails, and reports it for a rerun', async () => {
    // Given attaching to sensor-1's certificate is throttled
    iotMock.on(AttachPolicyCommand, { target: A }).rejects(awsError(ThrottlingException, 'Rate exceeded'));
    // Given sensor-2 lacks POLICY2 too
    held[B] = [POLICY];
    // When policies are synced
    const result = await syncDevicePolicies(iot(), { pipeline: STACK, policyNames: [POLICY, POLICY2] });
    // Then sensor-1 is reported as a failure and sensor-2 still gets POLICY2
    expect(result.failures).toEqual([{ name: `sensor-1 ${A}`, error: expect.stringContaining('Rate exceeded') }]);
    expect(result.changed).toEqual([{ thingName: 'sensor-2', certificateArn: B, attached: [POLICY2], detached: [] }]);
  });
});

describe('isStackDevicePolicy', () => {
  it("knows this stack's device policies by CloudFormation's name, not another stack's or a hand-made one", () => {
    // Given this stack's policy, another stack's, a role policy and a hand-made one
    // When each is checked / Then only this stack's device policy is one
    expect(isStackDevicePolicy(STACK, POLICY3)).toBe(true);
    expect(isStackDevicePolicy(STACK, `${STACK}-2-IngestDevicePolicyA1B2C3D4-XYZ123`)).toBe(false);
    expect(isStackDevicePolicy(STACK, `${STACK}-SinkRolePolicy12345678-XYZ123`)).toBe(false);
    expect(isStackDevicePolicy(STACK, FLEET_POLICY)).toBe(false);
  });
});
