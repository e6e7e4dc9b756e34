import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteConflictException,
  DeleteThingCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  InternalFailureException,
  UnauthorizedException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CredentialsExistError,
  DeviceExistsError,
  type DeviceMetadata,
  DeviceOptionsError,
  type ProvisionDeviceOptions,
  ProvisioningError,
  provisionDevice,
} from '../../../ops/devices';
import { awsError, certArn, iot, iotMock, notFound, sentCommands, sentNames } from './iot-mock';

const CERT_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PRIVATE = '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n';
const PUBLIC = '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n';

let outDir: string;
const POLICY = 'TelemetryPipeline-dev-IngestDevicePolicy-ABC123';
const POLICY2 = 'TelemetryPipeline-dev-IngestDevicePolicy2-DEF456';

const options = (overrides: Partial<ProvisionDeviceOptions> = {}): ProvisionDeviceOptions => ({
  name: 'sensor-0042',
  policyNames: [POLICY],
  pipeline: 'TelemetryPipeline-dev',
  outDir,
  routes: [{ topicFilter: 'sensors/+/telemetry', ruleName: 'TelemetryPipeline_dev_1' }],
  retry: { delayMs: 0 },
  ...overrides,
});

const mode = (path: string) => statSync(path).mode & 0o777;

beforeEach(() => {
  outDir = mkdtempSync(join(tmpdir(), 'devices-'));
  iotMock.reset();
  iotMock.on(DescribeEndpointCommand).resolves({ endpointAddress: ENDPOINT });
  iotMock.on(DescribeThingCommand).rejects(notFound());
  iotMock.on(CreateThingCommand).resolves({
    thingName: 'sensor-0042',
    thingArn: 'arn:aws:iot:eu-west-1:123456789012:thing/sensor-0042',
  });
  iotMock.on(CreateKeysAndCertificateCommand).resolves({
    certificateArn: certArn(CERT_ID),
    certificateId: CERT_ID,
    certificatePem: PEM,
    keyPair: { PrivateKey: PRIVATE, PublicKey: PUBLIC },
  });
  iotMock.on(AttachPolicyCommand).resolves({});
  iotMock.on(AttachThingPrincipalCommand).resolves({});
  iotMock.on(DetachThingPrincipalCommand).resolves({});
  iotMock.on(DetachPolicyCommand).resolves({});
  iotMock.on(UpdateCertificateCommand).resolves({});
  iotMock.on(DeleteCertificateCommand).resolves({});
  iotMock.on(DeleteThingCommand).resolves({});
});
afterEach(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('provisionDevice', () => {
  it('creates the thing, an active certificate, attaches the policy and the thing, in that order', async () => {
    // Given IoT answering every step (the mock above)
    // When a device is provisioned with a site attribute
    const device = await provisionDevice(iot(), options({ attributes: { site: 'lab-3' } }));

    // Then thing, certificate, policy and principal are created in that order, and the device has its URL and topics
    expect(sentCommands()).toEqual([
      ['DescribeEndpoint', { endpointType: 'iot:Data-ATS' }],
      ['DescribeThing', { thingName: 'sensor-0042' }],
      [
        'CreateThing',
        {
          thingName: 'sensor-0042',
          attributePayload: { attributes: { pipeline: 'TelemetryPipeline-dev', site: 'lab-3' } },
        },
      ],
      ['CreateKeysAndCertificate', { setAsActive: true }],
      ['AttachPolicy', { policyName: 'TelemetryPipeline-dev-IngestDevicePolicy-ABC123', target: certArn(CERT_ID) }],
      ['AttachThingPrincipal', { thingName: 'sensor-0042', principal: certArn(CERT_ID) }],
    ]);
    expect(device).toMatchObject({
      thingName: 'sensor-0042',
      certificateId: CERT_ID,
      certificateArn: certArn(CERT_ID),
      endpoint: ENDPOINT,
      url: `mqtts://${ENDPOINT}:8883`,
      topics: [
        {
          topic: 'sensors/sensor-0042/telemetry',
          ruleName: 'TelemetryPipeline_dev_1',
          basicIngestTopic: '$aws/rules/TelemetryPipeline_dev_1/sensors/sensor-0042/telemetry',
        },
      ],
    });
  });

  it('attaches every device policy the stack split the permissions into, and detaches them all on rollback', async () => {
    // Given a stack with two device policies, and a certificate that cannot be attached to the thing
    iotMock.on(AttachThingPrincipalCommand).rejects(awsError(InternalFailureException, 'try later'));

    // When the device is provisioned
    const error = await provisionDevice(iot(), options({ policyNames: [POLICY, POLICY2] })).catch((e: unknown) => e);

    // Then both policies were attached, and both detached again when the later step failed
    expect(sentCommands().filter(([name]) => name === 'AttachPolicy' || name === 'DetachPolicy')).toEqual([
      ['AttachPolicy', { policyName: POLICY, target: certArn(CERT_ID) }],
      ['AttachPolicy', { policyName: POLICY2, target: certArn(CERT_ID) }],
      ['DetachPolicy', { policyName: POLICY, target: certArn(CERT_ID) }],
      ['DetachPolicy', { policyName: POLICY2, target: certArn(CERT_ID) }],
    ]);
    expect(error).toMatchObject({ name: 'ProvisioningError', step: 'AttachThingPrincipal', leftBehind: [] });
  });

  it('names the policy when attaching the second one fails, and detaches the first', async () => {
    // Given the second device policy does not exist
    iotMock.on(AttachPolicyCommand, { policyName: POLICY2 }).rejects(notFound('Policy not found'));
    // When the device is provisioned with two policies
    const error = await provisionDevice(iot(), options({ policyNames: [POLICY, POLICY2] })).catch((e: unknown) => e);
    // Then the error names that policy, and the first is detached again
    expect(error).toMatchObject({ step: `AttachPolicy ${POLICY2}` });
    expect(sentCommands().filter(([name]) => name === 'DetachPolicy')).toEqual([
      ['DetachPolicy', { policyName: POLICY, target: certArn(CERT_ID) }],
    ]);
  });

  it('detaches a policy whose attach response was lost, since the attach may have taken effect', async () => {
    // Given the response to attaching the second policy is lost (the connection drops after IoT applied it)
    const lost = Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
    iotMock.on(AttachPolicyCommand, { policyName: POLICY2 }).rejects(lost);

    // When the device is provisioned
    const error = await provisionDevice(iot(), options({ policyNames: [POLICY, POLICY2] })).catch((e: unknown) => e);

    // Then the rollback detaches both policies, so the certificate can be deleted
    expect(error).toMatchObject({ step: `AttachPolicy ${POLICY2}`, leftBehind: [] });
    expect(sentCommands().filter(([name]) => name === 'DetachPolicy')).toEqual([
      ['DetachPolicy', { policyName: POLICY, target: certArn(CERT_ID) }],
      ['DetachPolicy', { policyName: POLICY2, target: certArn(CERT_ID) }],
    ]);
  });

  it('counts a detach of what was never attached as nothing to undo, not as left behind', async () => {
    // Given attaching the certificate to the thing fails with a server fault that did not attach it
    iotMock.on(AttachThingPrincipalCommand).rejects(awsError(InternalFailureException, 'try later'));
    iotMock.on(DetachThingPrincipalCommand).rejects(notFound());

    // When the device is provisioned
    const error = (await provisionDevice(iot(), options()).catch((e: unknown) => e)) as ProvisioningError;

    // Then the rollback still deletes everything, and reports nothing left behind
    expect(error.leftBehind).toEqual([]);
    expect(error.undone).toEqual([
      'detached policy TelemetryPipeline-dev-IngestDevicePolicy-ABC123',
      `deleted certificate ${CERT_ID}`,
      'deleted thing sensor-0042',
    ]);
  });

  it('records every policy in device.json', async () => {
    // Given a stack with two device policies
    // When a device is provisioned
    await provisionDevice(iot(), options({ policyNames: [POLICY, POLICY2] }));
    // Then device.json names both
    const metadata = JSON.parse(readFileSync(join(outDir, 'sensor-0042', 'device.json'), 'utf8')) as DeviceMetadata;
    expect(metadata.policyNames).toEqual([POLICY, POLICY2]);
  });

  it('writes the credentials owner-only (files 0600, folder 0700), and device.json without secrets', async () => {
    // Given IoT answering every step
    // When a device is provisioned
    const device = await provisionDevice(iot(), options());

    // Then its folder is 0700, each file 0600 with its content, and device.json holds no secret
    const dir = join(outDir, 'sensor-0042');
    expect(device.files.directory).toBe(dir);
    expect(mode(dir)).toBe(0o700);
    for (const [file, content] of [
      ['certificate.pem.crt', PEM],
      ['private.pem.key', PRIVATE],
      ['public.pem.key', PUBLIC],
    ] as const) {
      expect(readFileSync(join(dir, file), 'utf8')).toBe(content);
      expect(mode(join(dir, file))).toBe(0o600);
    }
    expect(mode(join(dir, 'device.json'))).toBe(0o600);
    const metadata = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8')) as DeviceMetadata;
    expect(metadata).toEqual({
      thingName: 'sensor-0042',
      thingArn: 'arn:aws:iot:eu-west-1:123456789012:thing/sensor-0042',
      certificateId: CERT_ID,
      certificateArn: certArn(CERT_ID),
      policyNames: [POLICY],
      pipeline: 'TelemetryPipeline-dev',
      endpoint: ENDPOINT,
      url: `mqtts://${ENDPOINT}:8883`,
      clientId: 'sensor-0042',
      topics: device.topics,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(JSON.stringify(metadata)).not.toContain('PRIVATE KEY');
  });

  it('sets 0600 even under a permissive umask, and tightens an existing folder to 0700', async () => {
    // Given a world-writable folder for the device and a umask of 0
    mkdirSync(join(outDir, 'sensor-0042'), { mode: 0o777 });
    const previous = process.umask(0);
    try {
      // When the device is provisioned
      await provisionDevice(iot(), options());
    } finally {
      process.umask(previous);
    }
    // Then the folder is tightened to 0700 and the key written 0600
    expect(mode(join(outDir, 'sensor-0042'))).toBe(0o700);
    expect(mode(join(outDir, 'sensor-0042', 'private.pem.key'))).toBe(0o600);
  });

  it('refuses to overwrite existing credential files, before any AWS call', async () => {
    // Given a private key already in the device's folder
    mkdirSync(join(outDir, 'sensor-0042'));
    writeFileSync(join(outDir, 'sensor-0042', 'private.pem.key'), 'an older key');

    // When the device is provisioned
    const error = await provisionDevice(iot(), options()).catch((e: unknown) => e);

    // Then it refuses by name before any AWS call, and the older key stays
    expect(error).toBeInstanceOf(CredentialsExistError);
    expect((error as Error).name).toBe('CredentialsExistError');
    expect((error as Error).message).toMatch(/Refusing to overwrite credentials of "sensor-0042".*private\.pem\.key/);
    expect(sentNames()).toEqual([]);
    expect(readFileSync(join(outDir, 'sensor-0042', 'private.pem.key'), 'utf8')).toBe('an older key');
  });

  it('refuses a thing that already exists, creating nothing', async () => {
    // Given a thing of that name exists
    iotMock.on(DescribeThingCommand).resolves({ thingName: 'sensor-0042' });
    // When the device is provisioned
    const error = await provisionDevice(iot(), options()).catch((e: unknown) => e);
    // Then it refuses after looking, creating nothing
    expect(error).toBeInstanceOf(DeviceExistsError);
    expect(sentNames()).toEqual(['DescribeEndpoint', 'DescribeThing']);
  });

  it('lists every invalid option at once, before any AWS call', async () => {
    // Given a bad name, no policy and four attributes
    // When the device is provisioned
    const error = await provisionDevice(
      iot(),
      options({ name: 'bad name!', policyNames: [], attributes: { a: '1', b: '2', c: '3' } }),
    ).catch((e: unknown) => e);
    // Then one error lists the three problems, before any AWS call
    expect(error).toBeInstanceOf(DeviceOptionsError);
    expect((error as DeviceOptionsError).problems).toEqual([
      expect.stringMatching(/^name: "bad name!" is not a valid thing name/),
      expect.stringMatching(/^policyNames: required/),
      expect.stringMatching(/^attributes: a thing without a thing type has at most 3 attributes/),
    ]);
    expect(sentNames()).toEqual([]);
  });

  it('passes on an AWS error from before anything was created (credentials, region), unchanged', async () => {
    // Given IoT denies the first call
    // When the device is provisioned
    const denied = awsError(UnauthorizedException, 'not allowed: iot:DescribeEndpoint');
    iotMock.on(DescribeEndpointCommand).rejects(denied);
    // Then that AWS error comes through as it is, and nothing else was called
    await expect(provisionDevice(iot(), options())).rejects.toBe(denied);
    expect(sentNames()).toEqual(['DescribeEndpoint']);
  });

  it('undoes everything when attaching the certificate to the thing fails, and says so', async () => {
    // Given attaching the certificate to the thing fails with a server fault
    iotMock.on(AttachThingPrincipalCommand).rejects(awsError(InternalFailureException, 'try later'));

    // When the device is provisioned
    const error = await provisionDevice(iot(), options()).catch((e: unknown) => e);

    // Then every step is undone in reverse, and the message says what was undone and that nothing was left
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error).toMatchObject({ name: 'ProvisioningError', step: 'AttachThingPrincipal', leftBehind: [] });
    expect((error as Error).message).toMatch(
      /Provisioning device "sensor-0042" failed at AttachThingPrincipal: InternalFailureException: try later\..*Undone: detached certificate .* from thing sensor-0042; detached policy .*; deleted certificate .*; deleted thing sensor-0042\. Nothing was left behind\./s,
    );
    expect(sentCommands().slice(6)).toEqual([
      // A server fault may follow an attach that took effect: detached too
      ['DetachThingPrincipal', { thingName: 'sensor-0042', principal: certArn(CERT_ID) }],
      ['DetachPolicy', { policyName: 'TelemetryPipeline-dev-IngestDevicePolicy-ABC123', target: certArn(CERT_ID) }],
      ['UpdateCertificate', { certificateId: CERT_ID, newStatus: 'INACTIVE' }],
      ['DeleteCertificate', { certificateId: CERT_ID }],
      ['DeleteThing', { thingName: 'sensor-0042' }],
    ]);
  });

  it('names the policy output when the policy does not exist', async () => {
    // Given the stack's device policy does not exist in IoT
    iotMock.on(AttachPolicyCommand).rejects(notFound('Policy not found'));
    // When the device is provisioned
    const error = await provisionDevice(iot(), options()).catch((e: unknown) => e);
    // Then the message names the stack outputs to check, and the certificate and thing are deleted
    expect((error as Error).message).toMatch(
      /failed at AttachPolicy .*DevicePolicyName, DevicePolicyName2, …: is the stack deployed here\?/s,
    );
    expect(sentNames().slice(5)).toEqual(['UpdateCertificate', 'DeleteCertificate', 'DeleteThing']);
  });

  it('undoes the AWS side and the files written when writing the credentials fails', async () => {
    // Given an output folder that cannot be created (a file stands where the folder should be)
    const blocked = join(outDir, 'blocked');
    writeFileSync(blocked, '');
    // When the device is provisioned there
    const error = await provisionDevice(iot(), options({ outDir: blocked })).catch((e: unknown) => e);

    // Then the AWS side is undone after the failed write
    expect(error).toMatchObject({ name: 'ProvisioningError', step: 'write credential files' });
    expect(sentNames().slice(6)).toEqual([
      'DetachThingPrincipal',
      'DetachPolicy',
      'UpdateCertificate',
      'DeleteCertificate',
      'DeleteThing',
    ]);
  });

  it('retries the deletes while the detach propagates', async () => {
    // Given a failed attach, and a certificate delete that conflicts once while the detach propagates
    iotMock.on(AttachThingPrincipalCommand).rejects(awsError(InternalFailureException, 'boom'));
    iotMock
      .on(DeleteCertificateCommand)
      .rejectsOnce(awsError(DeleteConflictException, 'Certificate policies must be detached before deletion'))
      .resolves({});
    // When the device is provisioned
    const error = await provisionDevice(iot(), options()).catch((e: unknown) => e);
    // Then the rollback retries the delete and leaves nothing behind
    expect(error).toMatchObject({ leftBehind: [] });
    expect(sentNames().filter((name) => name === 'DeleteCertificate')).toHaveLength(2);
  });

  it('lists what it could not undo, with how to clean up', async () => {
    // Given a failed attach, and deleting the certificate denied
    iotMock.on(AttachThingPrincipalCommand).rejects(awsError(InternalFailureException, 'boom'));
    iotMock.on(DeleteCertificateCommand).rejects(awsError(UnauthorizedException, 'no iot:DeleteCertificate'));

    // When the device is provisioned
    const error = (await provisionDevice(iot(), options({ retry: { attempts: 2, delayMs: 0 } })).catch(
      (e: unknown) => e,
    )) as ProvisioningError;

    // Then the error lists what it could not undo, what it undid, and how to clean up
    expect(error.leftBehind).toEqual([
      `deleted certificate ${CERT_ID} (UnauthorizedException: no iot:DeleteCertificate)`,
    ]);
    expect(error.undone).toEqual([
      `detached certificate ${CERT_ID} from thing sensor-0042`,
      'detached policy TelemetryPipeline-dev-IngestDevicePolicy-ABC123',
      'deleted thing sensor-0042',
    ]);
    expect(error.message).toMatch(
      /Could not undo: deleted certificate .*Remove these by hand .*devices revoke sensor-0042/s,
    );
    // Not a conflict: no retry
    expect(sentNames().filter((name) => name === 'DeleteCertificate')).toHaveLength(1);
  });
});
