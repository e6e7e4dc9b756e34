import { DescribeCertificateCommand, ListThingPrincipalsCommand, ListThingsCommand } from '@aws-sdk/client-iot';
import { beforeEach, describe, expect, it } from 'vitest';
import { listDevices } from '../../../ops/devices';
import { certArn, iot, iotMock, notFound, sentCommands } from './iot-mock';

beforeEach(() => {
  iotMock.reset();
});

describe('listDevices', () => {
  it('follows every page of things and of principals, describing each certificate', async () => {
    // Given two pages of things, the first thing with two pages of principals
    iotMock
      .on(ListThingsCommand, { nextToken: undefined })
      .resolves({
        things: [{ thingName: 'sensor-1', thingArn: 'arn:thing/sensor-1', attributes: { pipeline: 'P', site: 'a' } }],
        nextToken: 'things-2',
      })
      .on(ListThingsCommand, { nextToken: 'things-2' })
      .resolves({ things: [{ thingName: 'sensor-2', attributes: { pipeline: 'P' } }] });
    iotMock
      .on(ListThingPrincipalsCommand, { thingName: 'sensor-1', nextToken: undefined })
      .resolves({ principals: [certArn('aa11')], nextToken: 'principals-2' })
      .on(ListThingPrincipalsCommand, { thingName: 'sensor-1', nextToken: 'principals-2' })
      .resolves({ principals: [certArn('bb22'), 'eu-west-1:cognito-identity-id'] })
      .on(ListThingPrincipalsCommand, { thingName: 'sensor-2' })
      .resolves({ principals: [] });
    iotMock
      .on(DescribeCertificateCommand, { certificateId: 'aa11' })
      .resolves({ certificateDescription: { status: 'ACTIVE', creationDate: new Date('2026-01-01T00:00:00Z') } })
      .on(DescribeCertificateCommand, { certificateId: 'bb22' })
      .rejects(notFound());

    // When the pipeline's devices are listed
    const devices = await listDevices(iot(), { pipeline: 'P', pageSize: 1 });

    // Then the calls went page by page, by the pipeline attribute
    expect(sentCommands()).toEqual([
      ['ListThings', { attributeName: 'pipeline', attributeValue: 'P', maxResults: 1 }],
      ['ListThingPrincipals', { thingName: 'sensor-1' }],
      ['ListThingPrincipals', { thingName: 'sensor-1', nextToken: 'principals-2' }],
      ['DescribeCertificate', { certificateId: 'aa11' }],
      ['DescribeCertificate', { certificateId: 'bb22' }],
      ['ListThings', { attributeName: 'pipeline', attributeValue: 'P', maxResults: 1, nextToken: 'things-2' }],
      ['ListThingPrincipals', { thingName: 'sensor-2' }],
    ]);
    // And each device has its certificates and their status
    expect(devices).toEqual([
      {
        thingName: 'sensor-1',
        thingArn: 'arn:thing/sensor-1',
        attributes: { pipeline: 'P', site: 'a' },
        certificates: [
          {
            certificateId: 'aa11',
            certificateArn: certArn('aa11'),
            status: 'ACTIVE',
            createdAt: new Date('2026-01-01T00:00:00Z'),
          },
          { certificateId: 'bb22', certificateArn: certArn('bb22'), status: 'NOT_FOUND' },
        ],
        otherPrincipals: ['eu-west-1:cognito-identity-id'],
      },
      { thingName: 'sensor-2', attributes: { pipeline: 'P' }, certificates: [], otherPrincipals: [] },
    ]);
  });

  it('returns an empty list for a pipeline without devices', async () => {
    // Given a pipeline with no things tagged
    iotMock.on(ListThingsCommand).resolves({ things: [] });
    // When its devices are listed / Then the list is empty, after one ListThings by the pipeline tag
    expect(await listDevices(iot(), { pipeline: 'P' })).toEqual([]);
    expect(sentCommands()).toEqual([
      ['ListThings', { attributeName: 'pipeline', attributeValue: 'P', maxResults: 100 }],
    ]);
  });
});
