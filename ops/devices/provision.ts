/**
 * Provisioning one device in AWS IoT Core: a thing tagged with its pipeline, a certificate and key pair, the
 * stack's device policy on the certificate, the certificate attached to the thing, and the credentials on disk
 * (owner-only permissions). If a step fails after something was created, everything created is removed again.
 */
import { constants } from 'node:fs';
import { access, chmod, mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  DetachThingPrincipalCommand,
  type IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { iotCoreUrl } from './endpoint';
import { CredentialsExistError, DeviceExistsError, DeviceOptionsError, ProvisioningError } from './errors';
import { CREDENTIAL_FILES, DIRECTORY_MODE, FILE_MODE } from './files';
import { type RetryOptions, retryWhile, stillAttached } from './retry';
import { type DeviceTopic, type TopicRoute, topicsForDevice } from './topics';

/** The thing attribute that ties a device to its pipeline (the stack name); `listDevices` searches by it. */
export const PIPELINE_ATTRIBUTE = 'pipeline';

export interface ProvisionDeviceOptions {
  /** Thing name, and the MQTT client id the device must use: `[A-Za-z0-9:_-]`, 1–128. */
  readonly name: string;
  /** The IoT policies to attach to the certificate, all of them: the stack's `DevicePolicyName<n>` outputs. */
  readonly policyNames: readonly string[];
  /** The pipeline the device belongs to, stored as the thing attribute `pipeline`: the stack name. */
  readonly pipeline: string;
  /** Credentials go to `<outDir>/<name>/`. */
  readonly outDir: string;
  /** More searchable thing attributes; a thing without a type has at most 3, `pipeline` included. @default {} */
  readonly attributes?: Readonly<Record<string, string>>;
  /** The pipeline's routes, for the topics to report (see `devicePlanFromStackOutputs`). @default [] */
  readonly routes?: readonly TopicRoute[];
  /** Retries of the rollback's deletes while a detach propagates. */
  readonly retry?: RetryOptions;
}

export interface ProvisionedDevice {
  readonly thingName: string;
  readonly thingArn: string;
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly policyNames: readonly string[];
  /** The account's `iot:Data-ATS` endpoint. */
  readonly endpoint: string;
  /** `mqtts://<endpoint>:8883`, for the simulator. */
  readonly url: string;
  /** The exact topics this device may publish to. */
  readonly topics: readonly DeviceTopic[];
  /** Paths of the files written. */
  readonly files: {
    readonly directory: string;
    readonly certificate: string;
    readonly privateKey: string;
    readonly publicKey: string;
    readonly metadata: string;
  };
}

/** What `device.json` holds: everything a device needs to connect, except its secrets. */
export interface DeviceMetadata {
  readonly thingName: string;
  readonly thingArn: string;
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly policyNames: readonly string[];
  readonly pipeline: string;
  readonly endpoint: string;
  readonly url: string;
  /** Must equal the thing name: the device policy allows no other. */
  readonly clientId: string;
  readonly topics: readonly DeviceTopic[];
  readonly createdAt: string;
}

const THING_NAME = /^[A-Za-z0-9:_-]{1,128}$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.,@/:#-]{1,128}$/;
const ATTRIBUTE_VALUE = /^[A-Za-z0-9_.,@/:#=[\]-]{0,800}$/;
const MAX_ATTRIBUTES = 3;

/**
 * Creates the device and writes its credentials. Order: check the files are not there and the thing does not
 * exist, find the endpoint (all read-only: a wrong region or missing credentials fail before anything is created),
 * then CreateThing, CreateKeysAndCertificate (active), AttachPolicy of each device policy, AttachThingPrincipal, and
 * the files.
 *
 * @throws DeviceOptionsError, CredentialsExistError, DeviceExistsError before anything is created.
 * @throws ProvisioningError when a later step fails, after undoing what was created (it lists anything it could not).
 */
export async function provisionDevice(iot: IoTClient, options: ProvisionDeviceOptions): Promise<ProvisionedDevice> {
  validate(options);
  const { name, policyNames, pipeline } = options;
  const directory = join(options.outDir, name);
  const files = {
    directory,
    certificate: join(directory, CREDENTIAL_FILES.certificate),
    privateKey: join(directory, CREDENTIAL_FILES.privateKey),
    publicKey: join(directory, CREDENTIAL_FILES.publicKey),
    metadata: join(directory, CREDENTIAL_FILES.metadata),
  };
  const existing = await existingFiles([files.certificate, files.privateKey, files.publicKey, files.metadata]);
  if (existing.length > 0) {
    throw new CredentialsExistError(
      `Refusing to overwrite credentials of "${name}": ${existing.join(', ')} already exist. Revoke the device with \`npx telemetry-ops devices revoke ${name} --delete-files\`, or move the files away first.`,
    );
  }

  const endpoint = (await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress;
  if (!endpoint) throw new Error('DescribeEndpoint returned no endpointAddress');
  await assertNoThing(iot, name);

  const undo = new Undo(iot, options.retry);
  let step = 'CreateThing';
  try {
    const thing = await iot.send(
      new CreateThingCommand({
        thingName: name,
        attributePayload: { attributes: { [PIPELINE_ATTRIBUTE]: pipeline, ...options.attributes } },
      }),
    );
    undo.thing = name;
    step = 'CreateKeysAndCertificate';
    const created = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const { certificateArn, certificateId, certificatePem, keyPair } = created;
    if (!certificateArn || !certificateId || !certificatePem || !keyPair?.PrivateKey || !keyPair.PublicKey) {
      throw new Error('CreateKeysAndCertificate returned an incomplete certificate');
    }
    undo.certificate = { arn: certificateArn, id: certificateId };
    for (const policyName of policyNames) {
      step = `AttachPolicy ${policyName}`;
      await attempted(iot.send(new AttachPolicyCommand({ policyName, target: certificateArn })), () =>
        undo.policies.push(policyName),
      );
    }
    step = 'AttachThingPrincipal';
    await attempted(iot.send(new AttachThingPrincipalCommand({ thingName: name, principal: certificateArn })), () => {
      undo.attached = true;
    });

    step = 'write credential files';
    const topics = topicsForDevice(name, options.routes ?? []);
    const url = iotCoreUrl(endpoint);
    const thingArn = thing.thingArn ?? '';
    const metadata: DeviceMetadata = {
      thingName: name,
      thingArn,
      certificateId,
      certificateArn,
      policyNames,
      pipeline,
      endpoint,
      url,
      clientId: name,
      topics,
      createdAt: new Date().toISOString(),
    };
    await undo.writeFiles(options.outDir, directory, [
      [files.certificate, certificatePem],
      [files.privateKey, keyPair.PrivateKey],
      [files.publicKey, keyPair.PublicKey],
      [files.metadata, `${JSON.stringify(metadata, null, 2)}\n`],
    ]);
    return { thingName: name, thingArn, certificateId, certificateArn, policyNames, endpoint, url, topics, files };
  } catch (error) {
    const { undone, leftBehind } = await undo.run();
    throw provisioningError(name, step, error, undone, leftBehind);
  }
}

function validate(options: ProvisionDeviceOptions): void {
  const problems = thingNameProblems(options.name);
  if (options.policyNames.length === 0 || options.policyNames.some((policy) => !policy))
    problems.push('policyNames: required (the stack outputs DevicePolicyName, DevicePolicyName2, …)');
  if (!options.outDir) problems.push('outDir: required');
  problems.push(...attributeProblems(options.attributes ?? {}));
  if (!options.pipeline) problems.push('pipeline: required (the stack name)');
  if (!ATTRIBUTE_VALUE.test(options.pipeline))
    problems.push(`attributes.${PIPELINE_ATTRIBUTE}: "${options.pipeline}" is not a valid attribute value`);
  for (const [i, route] of (options.routes ?? []).entries()) {
    if (route.topicFilter.split('/').filter((level) => level === '+').length !== 1) {
      problems.push(`routes[${i}]: "${route.topicFilter}" must have exactly one "+" level (the device id)`);
    }
  }
  if (problems.length > 0) throw new DeviceOptionsError(problems);
}

/**
 * Problems in what a user typed (the thing name, its attributes), every one listed: the CLI checks them before any
 * AWS call, so a bad name never waits for credentials or the network.
 */
export function deviceInputProblems(options: {
  readonly name: string;
  readonly attributes?: Readonly<Record<string, string>>;
}): string[] {
  return [...thingNameProblems(options.name), ...attributeProblems(options.attributes ?? {})];
}

function thingNameProblems(name: string): string[] {
  return THING_NAME.test(name) ? [] : [`name: "${name}" is not a valid thing name ([A-Za-z0-9:_-], 1–128)`];
}

function attributeProblems(attributes: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  if (PIPELINE_ATTRIBUTE in attributes) {
    problems.push(`attributes: "${PIPELINE_ATTRIBUTE}" is set from the pipeline option`);
  }
  if (Object.keys({ ...attributes, [PIPELINE_ATTRIBUTE]: '' }).length > MAX_ATTRIBUTES) {
    problems.push(
      `attributes: a thing without a thing type has at most ${MAX_ATTRIBUTES} attributes, "${PIPELINE_ATTRIBUTE}" included`,
    );
  }
  for (const [key, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE_NAME.test(key)) problems.push(`attributes: "${key}" is not a valid attribute name`);
    if (!ATTRIBUTE_VALUE.test(value)) problems.push(`attributes.${key}: "${value}" is not a valid attribute value`);
  }
  return problems;
}

async function existingFiles(paths: readonly string[]): Promise<string[]> {
  const found = await Promise.all(
    paths.map((path) =>
      access(path, constants.F_OK).then(
        () => path,
        () => undefined,
      ),
    ),
  );
  return found.filter((path): path is string => path !== undefined);
}

/** CreateThing succeeds for an existing thing with the same attributes: check first, so we never adopt one. */
async function assertNoThing(iot: IoTClient, name: string): Promise<void> {
  try {
    await iot.send(new DescribeThingCommand({ thingName: name }));
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return;
    throw error;
  }
  throw new DeviceExistsError(
    `A thing named "${name}" already exists. Pick another name, or revoke it first with \`npx telemetry-ops devices revoke ${name}\`.`,
  );
}

/** What provisioning created so far, and how to remove it again, newest first. */
/**
 * Waits for an attach call, and records it for the rollback when it succeeded or may have: a response lost on the
 * way back (network error, timeout) or a server fault can follow an attach that did take effect, and a certificate
 * left attached cannot be deleted. Only a refused request (the SDK's `$fault: 'client'`: not found, invalid,
 * denied, throttled) certainly did nothing. Undoing what did not happen is harmless: see `Undo.run`.
 */
async function attempted(call: Promise<unknown>, record: () => void): Promise<void> {
  try {
    await call;
  } catch (error) {
    if ((error as { $fault?: string }).$fault !== 'client') record();
    throw error;
  }
  record();
}

class Undo {
  public thing: string | undefined;
  public certificate: { arn: string; id: string } | undefined;
  public readonly policies: string[] = [];
  public attached = false;
  private readonly written: string[] = [];
  private createdDirectory: string | undefined;

  public constructor(
    private readonly iot: IoTClient,
    private readonly retry: RetryOptions | undefined,
  ) {}

  /** Writes each file owner-only, never over an existing one (`wx`), remembering what to remove on failure. */
  public async writeFiles(outDir: string, directory: string, files: readonly [string, string][]): Promise<void> {
    await mkdir(outDir, { recursive: true });
    try {
      await mkdir(directory, { mode: DIRECTORY_MODE });
      this.createdDirectory = directory;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    // The umask may have narrowed the mode, never widened it; an existing folder may be wider: set it exactly.
    await chmod(directory, DIRECTORY_MODE);
    for (const [path, content] of files) {
      // Created with its final mode, so the key is never readable by others, not even for a moment.
      await writeFile(path, content, { mode: FILE_MODE, flag: 'wx' });
      this.written.push(path);
    }
  }

  public async run(): Promise<{ undone: string[]; leftBehind: string[] }> {
    const undone: string[] = [];
    const leftBehind: string[] = [];
    const attempt = async (what: string, action: () => Promise<unknown>) => {
      try {
        await action();
        undone.push(what);
      } catch (error) {
        // A detach of what an attach with a lost response never attached: nothing to undo
        if ((error as Error).name === 'ResourceNotFoundException' && what.startsWith('detached')) return;
        leftBehind.push(`${what} (${(error as Error).name}: ${(error as Error).message})`);
      }
    };
    for (const path of this.written.reverse()) await attempt(`removed ${path}`, () => rm(path, { force: true }));
    const directory = this.createdDirectory;
    if (directory) await attempt(`removed ${directory}`, () => rmdir(directory));
    const iot = this.iot;
    const { thing, certificate } = this;
    if (this.attached && thing && certificate) {
      await attempt(`detached certificate ${certificate.id} from thing ${thing}`, () =>
        iot.send(new DetachThingPrincipalCommand({ thingName: thing, principal: certificate.arn })),
      );
    }
    for (const policy of certificate ? this.policies : []) {
      await attempt(`detached policy ${policy}`, () =>
        iot.send(new DetachPolicyCommand({ policyName: policy, target: certificate?.arn })),
      );
    }
    if (certificate) {
      await attempt(`deleted certificate ${certificate.id}`, async () => {
        await iot.send(new UpdateCertificateCommand({ certificateId: certificate.id, newStatus: 'INACTIVE' }));
        await retryWhile(
          stillAttached,
          () => iot.send(new DeleteCertificateCommand({ certificateId: certificate.id })),
          this.retry,
        );
      });
    }
    if (thing) {
      await attempt(`deleted thing ${thing}`, () =>
        retryWhile(stillAttached, () => iot.send(new DeleteThingCommand({ thingName: thing })), this.retry),
      );
    }
    return { undone, leftBehind };
  }
}

/** Hints for the failures an operator can fix, by AWS error name. */
const HINTS: Readonly<Record<string, string>> = {
  ResourceNotFoundException:
    'Does the policy exist in this account and region? They are the stack outputs DevicePolicyName, DevicePolicyName2, …: is the stack deployed here?',
  UnauthorizedException:
    'Your AWS identity needs iot:CreateThing, iot:CreateKeysAndCertificate, iot:AttachPolicy and iot:AttachThingPrincipal.',
  AccessDeniedException:
    'Your AWS identity needs iot:CreateThing, iot:CreateKeysAndCertificate, iot:AttachPolicy and iot:AttachThingPrincipal.',
  LimitExceededException:
    'An account limit was reached (things, certificates, or policies per certificate: AWS IoT attaches at most 10).',
};

function provisioningError(
  name: string,
  step: string,
  cause: unknown,
  undone: readonly string[],
  leftBehind: readonly string[],
): ProvisioningError {
  const error = cause as Error;
  const hint =
    HINTS[error.name] ?? (step === 'write credential files' ? 'Check that the output folder is writable.' : '');
  const parts = [
    `Provisioning device "${name}" failed at ${step}: ${error.name}: ${error.message}.`,
    hint,
    undone.length > 0 ? `Undone: ${undone.join('; ')}.` : '',
    leftBehind.length > 0
      ? `Could not undo: ${leftBehind.join('; ')}. Remove these by hand (AWS IoT console, or \`npx telemetry-ops devices revoke ${name}\`).`
      : 'Nothing was left behind.',
  ];
  return new ProvisioningError(parts.filter(Boolean).join(' '), step, undone, leftBehind, { cause });
}
