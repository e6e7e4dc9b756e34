/**
 * `devices` as a command (ops/commands/devices.ts): the wiring from config and stack outputs to the cores (tested on
 * their own in test/ops/devices), output, and one-line errors.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli';
import { iot, iotMock, notFound } from '../devices/iot-mock';

const cloudFormation = mockClient(CloudFormationClient);
const ENDPOINT = 'abc123-ats.iot.eu-west-1.amazonaws.com';

/** The deployed stack, with these outputs. */
const givenStackOutputs = (outputs: Record<string, string>) =>
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'TelemetryPipeline-dev',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });

beforeEach(() => {
  iotMock.reset();
  cloudFormation.reset();
  givenStackOutputs({
    DevicePolicyName: 'TelemetryPipeline-dev-DevicePolicy',
    DeviceTopic1: 'sensors/<thingName>/telemetry',
    BasicIngestTopic1: '$aws/rules/TelemetryPipeline_dev_1/sensors/<thingName>/telemetry',
  });
});

describe('devices', () => {
  it('provisions with the stack’s policy and prints the endpoint and topics', async () => {
    // Given the deployed stack's outputs (above), and IoT creating the thing and its certificate
    const out = mkdtempSync(join(tmpdir(), 'devices-'));
    iotMock.on(DescribeEndpointCommand).resolves({ endpointAddress: ENDPOINT });
    iotMock.on(DescribeThingCommand).rejects(notFound());
    iotMock
      .on(CreateThingCommand)
      .resolves({ thingName: 'sensor-0001', thingArn: 'arn:aws:iot:eu-west-1:1:thing/sensor-0001' });
    iotMock.on(CreateKeysAndCertificateCommand).resolves({
      certificateArn: 'arn:aws:iot:eu-west-1:1:cert/abc',
      certificateId: 'abc',
      certificatePem: 'CERT',
      keyPair: { PrivateKey: 'PRIVATE', PublicKey: 'PUBLIC' },
    });
    iotMock.on(AttachPolicyCommand).resolves({});
    iotMock.on(AttachThingPrincipalCommand).resolves({});

    // When a device is provisioned
    const result = await cli(['devices', 'provision', 'sensor-0001', '--out', out], {
      clients: { iot: iot(), cloudFormation: new CloudFormationClient({}) },
    });

    // Then the stack's device policy and the pipeline tag are used, the endpoint and topics printed, the key owner-only
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(iotMock.commandCalls(AttachPolicyCommand)[0]?.args[0].input).toEqual({
      policyName: 'TelemetryPipeline-dev-DevicePolicy',
      target: 'arn:aws:iot:eu-west-1:1:cert/abc',
    });
    expect(iotMock.commandCalls(CreateThingCommand)[0]?.args[0].input.attributePayload?.attributes).toMatchObject({
      pipeline: 'TelemetryPipeline-dev',
    });
    expect(result.stdout).toContain(`url:         mqtts://${ENDPOINT}:8883`);
    expect(result.stdout).toContain(
      '  sensors/sensor-0001/telemetry   (Basic Ingest: $aws/rules/TelemetryPipeline_dev_1/sensors/sensor-0001/telemetry)',
    );
    expect(statSync(join(out, 'sensor-0001', 'private.pem.key')).mode & 0o777).toBe(0o600);
  });

  it('rejects a bad thing name before reading the stack or calling IoT', async () => {
    // Given a name that is no thing name
    // When a device of that name is provisioned, and revoked
    const provision = await cli(['devices', 'provision', 'bad name!'], {
      clients: { iot: iot(), cloudFormation: new CloudFormationClient({}) },
    });
    const revoke = await cli(['devices', 'revoke', 'bad name!', '--yes'], {
      clients: { iot: iot(), cloudFormation: new CloudFormationClient({}) },
    });

    // Then each fails with one line naming the rule, before any AWS call
    for (const result of [provision, revoke]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        'error: Invalid device options:\n  - name: "bad name!" is not a valid thing name ([A-Za-z0-9:_-], 1–128)\n',
      );
    }
    expect(cloudFormation.calls()).toHaveLength(0);
    expect(iotMock.calls()).toHaveLength(0);
  });

  it('refuses to revoke without --yes, before calling AWS', async () => {
    // Given a revoke without --yes
    // When it runs
    const result = await cli(['devices', 'revoke', 'sensor-0001'], { clients: { iot: iot() } });
    // Then it refuses in one line, before any AWS call
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: Revoking sensor-0001 cannot be undone: add --yes\n');
    expect(iotMock.calls()).toHaveLength(0);
  });

  /** The stack's one device policy with these targets, each certificate holding it alone; a detach frees them. */
  const givenDevicePolicyTargets = (initial: string[]) => {
    let targets = initial;
    iotMock
      .on(ListAttachedPoliciesCommand)
      .resolves({ policies: [{ policyName: 'TelemetryPipeline-dev-DevicePolicy' }] });
    iotMock.on(DetachPolicyCommand).callsFake(() => {
      targets = [];
      return {};
    });
    iotMock.on(ListTargetsForPolicyCommand).callsFake(() => ({ targets }));
  };

  it('revokes every device of the pipeline with --all, and frees the stack’s device policy for cdk destroy', async () => {
    // Given one device of the pipeline whose certificate alone holds the device policy
    const cert = 'arn:aws:iot:eu-west-1:123456789012:cert/abcd';
    iotMock.on(ListThingsCommand).resolves({ things: [{ thingName: 'sensor-0001' }] });
    iotMock.on(ListThingPrincipalsCommand).resolves({ principals: [cert] });
    iotMock.on(ListPrincipalThingsCommand).resolves({ things: ['sensor-0001'] });
    givenDevicePolicyTargets([cert]);

    // When every device is revoked
    const result = await cli(['devices', 'revoke', '--all', '--yes'], { clients: { iot: iot() } });

    // Then the pipeline's things are revoked and the policy is free for `cdk destroy`
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(iotMock.commandCalls(ListThingsCommand)[0]?.args[0].input).toMatchObject({
      attributeName: 'pipeline',
      attributeValue: 'TelemetryPipeline-dev',
    });
    expect(iotMock.commandCalls(ListTargetsForPolicyCommand)[0]?.args[0].input).toEqual({
      policyName: 'TelemetryPipeline-dev-DevicePolicy',
    });
    expect(iotMock.commandCalls(DeleteThingCommand)).toHaveLength(1);
    expect(result.stdout).toContain('revoked sensor-0001');
    expect(result.stdout).toContain(
      'nothing attached to TelemetryPipeline-dev-DevicePolicy: `npx cdk destroy` can delete it',
    );
  });

  it('deletes a certificate no thing holds only with --delete-orphan-certificates', async () => {
    // Given no pipeline thing, and a certificate on the device policy that no thing holds
    const orphan = 'arn:aws:iot:eu-west-1:123456789012:cert/0ddba11';
    const given = () => {
      iotMock.reset();
      iotMock.on(ListThingsCommand).resolves({ things: [] });
      iotMock.on(ListPrincipalThingsCommand).resolves({ things: [] });
      givenDevicePolicyTargets([orphan]);
      iotMock.on(UpdateCertificateCommand).resolves({});
      iotMock.on(DeleteCertificateCommand).resolves({});
    };

    // When --all runs without the flag / Then the certificate only loses the policy
    given();
    const plain = await cli(['devices', 'revoke', '--all', '--yes'], { clients: { iot: iot() } });
    expect(plain.code).toBe(0);
    expect(iotMock.commandCalls(DeleteCertificateCommand)).toHaveLength(0);
    expect(plain.stdout).toContain(`detached TelemetryPipeline-dev-DevicePolicy from ${orphan}`);

    // When it runs with --delete-orphan-certificates / Then the certificate is deleted
    given();
    const flagged = await cli(['devices', 'revoke', '--all', '--yes', '--delete-orphan-certificates'], {
      clients: { iot: iot() },
    });
    expect(flagged.code).toBe(0);
    expect(iotMock.commandCalls(DeleteCertificateCommand)[0]?.args[0].input).toEqual({ certificateId: '0ddba11' });
    expect(flagged.stdout).toContain(`deleted certificate ${orphan}`);
  });

  it('refuses --delete-orphan-certificates without --all', async () => {
    // Given --delete-orphan-certificates for one device
    // When revoke runs
    const result = await cli(['devices', 'revoke', 'sensor-0001', '--yes', '--delete-orphan-certificates'], {
      clients: { iot: iot() },
    });
    // Then it refuses: the flag goes with --all
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: --delete-orphan-certificates goes with --all\n');
  });

  it('exits 1 and names what is still attached when the policy is not free after --all', async () => {
    // Given a certificate of another thing that keeps holding the device policy
    iotMock.on(ListThingsCommand).resolves({ things: [] });
    iotMock.on(ListTargetsForPolicyCommand).resolves({ targets: ['arn:aws:iot:eu-west-1:123456789012:cert/abcd'] });
    iotMock.on(ListPrincipalThingsCommand).resolves({ things: ['elsewhere'] });
    iotMock.on(DetachPolicyCommand).resolves({});

    // When every device is revoked
    const result = await cli(['devices', 'revoke', '--all', '--yes'], { clients: { iot: iot() } });

    // Then the command fails, naming what is still attached to the policy
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('still attached to TelemetryPipeline-dev-DevicePolicy');
  });

  it('sync-policies attaches a device policy the stack added since the device was provisioned (dry run first)', async () => {
    // Given the stack now splits the device permissions over two policies, and sensor-0001 holds only the first
    const [first, second] = [
      'TelemetryPipeline-dev-DevicePolicy',
      'TelemetryPipeline-dev-IngestDevicePolicy2A1B2C3D4-XYZ123',
    ];
    givenStackOutputs({ DevicePolicyName: first, DevicePolicyName2: second });
    const cert = 'arn:aws:iot:eu-west-1:123456789012:cert/abcd';
    iotMock.on(ListThingsCommand).resolves({ things: [{ thingName: 'sensor-0001' }] });
    iotMock.on(ListThingPrincipalsCommand).resolves({ principals: [cert] });
    iotMock.on(ListAttachedPoliciesCommand).resolves({ policies: [{ policyName: first }] });
    iotMock.on(AttachPolicyCommand).resolves({});

    // When sync-policies runs with --dry-run, then without
    const dry = await cli(['devices', 'sync-policies', '--dry-run'], { clients: { iot: iot() } });
    expect(dry.stdout).toContain(`sensor-0001 ${cert}: would attach ${second}`);
    expect(iotMock.commandCalls(AttachPolicyCommand)).toHaveLength(0);
    const result = await cli(['devices', 'sync-policies'], { clients: { iot: iot() } });

    // Then the second policy is attached to the certificate
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`sensor-0001 ${cert}: attach ${second}`);
    expect(result.stdout).toContain('1 certificate(s) changed, 0 already in sync');
    expect(iotMock.commandCalls(AttachPolicyCommand)[0]?.args[0].input).toEqual({ policyName: second, target: cert });
  });

  it('takes a device name or --all, never both or neither', async () => {
    // Given revoke without a name or --all, and with both
    for (const args of [
      ['devices', 'revoke', '--yes'],
      ['devices', 'revoke', 'sensor-0001', '--all', '--yes'],
    ]) {
      // When each runs
      const result = await cli(args, { clients: { iot: iot() } });
      // Then each refuses in one line, before any AWS call
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(/a device name or --all/);
    }
    expect(iotMock.calls()).toHaveLength(0);
  });
});
