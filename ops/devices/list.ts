/**
 * The devices of a pipeline: things carrying the `pipeline=<stack>` attribute, with their certificates and status.
 * Calls are made one after another: IoT's control-plane APIs have low per-account rate limits, and a listing is
 * not worth throttling provisioning running at the same time.
 */
import {
  DescribeCertificateCommand,
  type IoTClient,
  ListThingPrincipalsCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import { collectPages } from './pages';
import { PIPELINE_ATTRIBUTE } from './provision';

export interface DeviceCertificate {
  readonly certificateId: string;
  readonly certificateArn: string;
  /** ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER…; NOT_FOUND if it vanished while listing. */
  readonly status: string;
  readonly createdAt?: Date;
}

export interface DeviceSummary {
  readonly thingName: string;
  readonly thingArn?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly certificates: readonly DeviceCertificate[];
  /** Principals that are not X.509 certificates (Cognito identities…), as listed. */
  readonly otherPrincipals: readonly string[];
}

export interface ListDevicesOptions {
  /** The pipeline (stack name) the things are tagged with. */
  readonly pipeline: string;
  /** Things per ListThings page. @default 100 */
  readonly pageSize?: number;
}

/** `arn:aws:iot:<region>:<account>:cert/<id>` → id. */
export function certificateIdOf(principal: string): string | undefined {
  return /^arn:[^:]+:iot:[^:]*:[^:]*:cert\/([0-9a-f]+)$/.exec(principal)?.[1];
}

/** Every device of the pipeline, following every page. */
export async function listDevices(iot: IoTClient, options: ListDevicesOptions): Promise<DeviceSummary[]> {
  const devices: DeviceSummary[] = [];
  for await (const device of pipelineDevices(iot, options)) devices.push(device);
  return devices;
}

/** The same, one device at a time, for output that streams while a large fleet is listed. */
export async function* pipelineDevices(iot: IoTClient, options: ListDevicesOptions): AsyncGenerator<DeviceSummary> {
  let nextToken: string | undefined;
  do {
    const page = await iot.send(
      new ListThingsCommand({
        attributeName: PIPELINE_ATTRIBUTE,
        attributeValue: options.pipeline,
        maxResults: options.pageSize ?? 100,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const thing of page.things ?? []) {
      if (!thing.thingName) continue;
      const principals = await thingPrincipals(iot, thing.thingName);
      const certificates: DeviceCertificate[] = [];
      const otherPrincipals: string[] = [];
      for (const principal of principals) {
        const certificateId = certificateIdOf(principal);
        if (certificateId) certificates.push(await describe(iot, certificateId, principal));
        else otherPrincipals.push(principal);
      }
      yield {
        thingName: thing.thingName,
        ...(thing.thingArn ? { thingArn: thing.thingArn } : {}),
        attributes: thing.attributes ?? {},
        certificates,
        otherPrincipals,
      };
    }
    nextToken = page.nextToken;
  } while (nextToken);
}

/** All principals attached to a thing, every page. */
export function thingPrincipals(iot: IoTClient, thingName: string): Promise<string[]> {
  return collectPages(async (nextToken) => {
    const page = await iot.send(new ListThingPrincipalsCommand({ thingName, ...(nextToken ? { nextToken } : {}) }));
    return { items: page.principals, next: page.nextToken };
  });
}

async function describe(iot: IoTClient, certificateId: string, certificateArn: string): Promise<DeviceCertificate> {
  try {
    const { certificateDescription: description } = await iot.send(new DescribeCertificateCommand({ certificateId }));
    return {
      certificateId,
      certificateArn,
      status: description?.status ?? 'UNKNOWN',
      ...(description?.creationDate ? { createdAt: description.creationDate } : {}),
    };
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException')
      return { certificateId, certificateArn, status: 'NOT_FOUND' };
    throw error;
  }
}
