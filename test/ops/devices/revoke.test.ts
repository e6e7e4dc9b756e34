import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateStateException,
  DeleteCertificateCommand,
  DeleteConflictException,
  DeleteThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  InvalidRequestException,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
  ThrottlingException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { beforeEach, describe, expect, it } from 'vitest';
import { DeviceNotFoundError, RevocationError, revokeDevice } from '../../../ops/devices';
import { awsError, certArn, iot, iotMock, notFound, sentCommands, sentNames } from './iot-mock';

const CERT = certArn('c0ffee');

beforeEach(() => {
  iotMock.reset();
  iotMock.on(ListThingPrincipalsCommand).resolves({ principals: [CERT] });
  iotMock.on(ListPrincipalThingsCommand).resolves({ things: ['sensor-1'] });
  iotMock
    .on(ListAttachedPoliciesCommand, { target: CERT, marker: undefined })
    .resolves({ policies: [{ policyName: 'DevicePolicy' }], nextMarker: 'm2' })
    .on(ListAttachedPoliciesCommand, { target: CERT, marker: 'm2' })
    .resolves({ policies: [{ policyName: 'DebugPolicy' }] });
  iotMock.on(UpdateCertificateCommand).resolves({});
  iotMock.on(DetachPolicyCommand).resolves({});
  iotMock.on(DetachThingPrincipalCommand).resolves({});
  iotMock.on(DeleteCertificateCommand).resolves({});
  iotMock.on(DeleteThingCommand).resolves({});
});

describe('revokeDevice', () => {
  it('deactivates, detaches every policy (all pages), detaches, deletes the certificate, then the thing', async () => {
    // Given a device with one certificate holding two pages of policies (the IoT mock above)
    // When it is revoked
    const revoked = await revokeDevice(iot(), { name: 'sensor-1', retry: { delayMs: 0 } });

    // Then every step runs in order, every page read, and the report says what was done
    expect(sentCommands()).toEqual([
      ['ListThingPrincipals', { thingName: 'sensor-1' }],
      ['ListPrincipalThings', { principal: CERT }],
      ['UpdateCertificate', { certificateId: 'c0ffee', newStatus: 'INACTIVE' }],
      ['ListAttachedPolicies', { target: CERT }],
      ['ListAttachedPolicies', { target: CERT, marker: 'm2' }],
      ['DetachPolicy', { policyName: 'DevicePolicy', target: CERT }],
      ['DetachPolicy', { policyName: 'DebugPolicy', target: CERT }],
      ['DetachThingPrincipal', { thingName: 'sensor-1', principal: CERT }],
      ['DeleteCertificate', { certificateId: 'c0ffee' }],
      ['DeleteThing', { thingName: 'sensor-1' }],
    ]);
    expect(revoked).toEqual({
      thingName: 'sensor-1',
      certificates: [
        { certificateId: 'c0ffee', deleted: true, detachedPolicies: ['DevicePolicy', 'DebugPolicy'], sharedWith: [] },
      ],
      otherPrincipals: [],
      deletedFiles: [],
    });
  });

  it('says "not found" for a device that does not exist or was already revoked, touching nothing', async () => {
    // Given a device IoT does not know
    iotMock.on(ListThingPrincipalsCommand).rejects(notFound());
    // When it is revoked
    const error = await revokeDevice(iot(), { name: 'sensor-1' }).catch((e: unknown) => e);
    // Then a DeviceNotFoundError says so, after the one call that found out
    expect(error).toBeInstanceOf(DeviceNotFoundError);
    expect((error as Error).name).toBe('DeviceNotFoundError');
    expect((error as Error).message).toMatch(/No device "sensor-1".*already revoked/);
    expect(sentNames()).toEqual(['ListThingPrincipals']);
  });

  it('only detaches a certificate that other things still use', async () => {
    // Given a certificate another thing holds too
    iotMock.on(ListPrincipalThingsCommand).resolves({ things: ['sensor-1', 'sensor-2'] });
    // When the device is revoked
    const revoked = await revokeDevice(iot(), { name: 'sensor-1' });
    // Then the certificate is only detached from this thing, and the report names the other
    expect(sentNames()).toEqual(['ListThingPrincipals', 'ListPrincipalThings', 'DetachThingPrincipal', 'DeleteThing']);
    expect(revoked.certificates).toEqual([
      { certificateId: 'c0ffee', deleted: false, detachedPolicies: [], sharedWith: ['sensor-2'] },
    ]);
  });

  it('accepts a certificate that is already revoked, and retries deletes while the detach propagates', async () => {
    // Given a certificate revoked already, and deletes that conflict once while the detach propagates
    iotMock.on(UpdateCertificateCommand).rejects(awsError(CertificateStateException, 'Certificate is revoked'));
    iotMock
      .on(DeleteCertificateCommand)
      .rejectsOnce(awsError(DeleteConflictException, 'Certificate is attached to one or more things'))
      .resolves({});
    iotMock
      .on(DeleteThingCommand)
      .rejectsOnce(
        awsError(InvalidRequestException, 'Cannot delete. Thing sensor-1 is still attached to one or more principals'),
      )
      .resolves({});

    // When the device is revoked
    const revoked = await revokeDevice(iot(), { name: 'sensor-1', retry: { delayMs: 0 } });

    // Then the certificate is deleted, each delete tried twice
    expect(revoked.certificates[0]?.deleted).toBe(true);
    expect(sentNames().filter((n) => n === 'DeleteCertificate')).toHaveLength(2);
    expect(sentNames().filter((n) => n === 'DeleteThing')).toHaveLength(2);
  });

  it('stops with what was done and how to resume when a step fails', async () => {
    // Given IoT throttles detaching a policy
    iotMock.on(DetachPolicyCommand).rejects(awsError(ThrottlingException, 'Rate exceeded'));
    // When the device is revoked
    const error = await revokeDevice(iot(), { name: 'sensor-1', retry: { delayMs: 0 } }).catch((e: unknown) => e);
    // Then a RevocationError names the failed step, what was done and how to resume
    expect(error).toBeInstanceOf(RevocationError);
    expect(error).toMatchObject({
      step: 'detach policy DevicePolicy',
      done: [
        'list things of certificate c0ffee',
        'deactivate certificate c0ffee',
        'list policies of certificate c0ffee',
      ],
    });
    expect((error as Error).message).toMatch(
      /failed at "detach policy DevicePolicy": ThrottlingException.*Run the revocation again/s,
    );
    // The certificate is still on the thing, so a second run finds and finishes it
    expect(sentNames()).not.toContain('DetachThingPrincipal');
  });

  it('detaches principals that are not certificates without deleting anything of theirs', async () => {
    // Given a thing whose only principal is not a certificate
    iotMock.on(ListThingPrincipalsCommand).resolves({ principals: ['eu-west-1:cognito-id'] });
    // When it is revoked
    const revoked = await revokeDevice(iot(), { name: 'sensor-1' });
    // Then that principal is detached and nothing of it deleted
    expect(sentCommands()).toEqual([
      ['ListThingPrincipals', { thingName: 'sensor-1' }],
      ['DetachThingPrincipal', { thingName: 'sensor-1', principal: 'eu-west-1:cognito-id' }],
      ['DeleteThing', { thingName: 'sensor-1' }],
    ]);
    expect(revoked.otherPrincipals).toEqual(['eu-west-1:cognito-id']);
  });

  it('deletes the credential files and their folder when asked', async () => {
    // Given the credential files `devices provision` wrote for the device
    const outDir = mkdtempSync(join(tmpdir(), 'revoke-'));
    try {
      const dir = join(outDir, 'sensor-1');
      mkdirSync(dir);
      for (const file of ['certificate.pem.crt', 'private.pem.key', 'public.pem.key', 'device.json']) {
        writeFileSync(join(dir, file), 'x');
      }
      // When it is revoked with deleteFiles
      const revoked = await revokeDevice(iot(), { name: 'sensor-1', deleteFiles: true, outDir });
      // Then the four files and their folder are gone
      expect(revoked.deletedFiles).toHaveLength(4);
      expect(readdirSync(outDir)).toEqual([]);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
