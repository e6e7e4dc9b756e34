/**
 * Revoking a device: its certificates deactivated, their policies detached, detached from the thing and deleted,
 * then the thing deleted, optionally its credential files too.
 *
 * Per certificate the order is: deactivate first (the device is cut off at once, whatever fails later), detach
 * its policies, detach it from the thing, delete it. Detaching from the thing comes after the rest so that a
 * revocation that stops half-way still finds the certificate on the thing and finishes it when run again; the
 * reverse order would leave an active certificate nobody can find by the thing's name. A certificate that other
 * things use too is only detached from this one.
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteCertificateCommand,
  DeleteThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  type IoTClient,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { DeviceNotFoundError, DeviceOptionsError, RevocationError } from './errors';
import { CREDENTIAL_FILES } from './files';
import { certificateIdOf, thingPrincipals } from './list';
import { collectPages } from './pages';
import type { RetryOptions } from './retry';
import { retryWhile, stillAttached } from './retry';

export interface RevokeDeviceOptions {
  /** The thing name. */
  readonly name: string;
  /** Also delete `<outDir>/<name>/`'s credential files. Needs `outDir`. @default false */
  readonly deleteFiles?: boolean;
  readonly outDir?: string;
  /** Retries of the deletes while a detach propagates (IoT is eventually consistent there). */
  readonly retry?: RetryOptions;
}

export interface RevokedCertificate {
  readonly certificateId: string;
  /** Deleted, or kept because other things still use it (then only detached from this one). */
  readonly deleted: boolean;
  readonly detachedPolicies: readonly string[];
  /** The other things using it, when kept. */
  readonly sharedWith: readonly string[];
}

export interface RevokedDevice {
  readonly thingName: string;
  readonly certificates: readonly RevokedCertificate[];
  /** Principals that are not certificates, detached. */
  readonly otherPrincipals: readonly string[];
  readonly deletedFiles: readonly string[];
}

/**
 * @throws DeviceNotFoundError when no thing has that name (never provisioned, or already revoked).
 * @throws RevocationError when a step fails; running it again resumes where it stopped.
 */
export async function revokeDevice(iot: IoTClient, options: RevokeDeviceOptions): Promise<RevokedDevice> {
  const { name } = options;
  if (options.deleteFiles && !options.outDir) {
    throw new DeviceOptionsError(['outDir: required with deleteFiles (where the credentials were written)']);
  }
  let principals: string[];
  try {
    principals = await thingPrincipals(iot, name);
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') {
      throw new DeviceNotFoundError(
        `No device "${name}" in this account and region: it was never provisioned here, or is already revoked. \`npx telemetry-ops devices list\` shows the pipeline's devices.`,
        { cause: error },
      );
    }
    throw error;
  }

  const done: string[] = [];
  let step = '';
  const run = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    step = what;
    const result = await call();
    done.push(what);
    return result;
  };
  try {
    const certificates: RevokedCertificate[] = [];
    const otherPrincipals: string[] = [];
    for (const principal of principals) {
      const certificateId = certificateIdOf(principal);
      if (!certificateId) {
        await run(`detach ${principal}`, () =>
          iot.send(new DetachThingPrincipalCommand({ thingName: name, principal })),
        );
        otherPrincipals.push(principal);
        continue;
      }
      certificates.push(await revokeCertificate(iot, name, principal, certificateId, run, options.retry));
    }
    await run(`delete thing ${name}`, () =>
      retryWhile(stillAttached, () => iot.send(new DeleteThingCommand({ thingName: name })), options.retry),
    );
    const deletedFiles =
      options.deleteFiles && options.outDir ? await deleteCredentialFiles(join(options.outDir, name)) : [];
    return { thingName: name, certificates, otherPrincipals, deletedFiles };
  } catch (error) {
    throw new RevocationError(
      `Revoking device "${name}" failed at "${step}": ${(error as Error).name}: ${(error as Error).message}. ${
        done.length > 0 ? `Done so far: ${done.join('; ')}. ` : ''
      }Run the revocation again to finish it.`,
      step,
      done,
      { cause: error },
    );
  }
}

type Step = <T>(what: string, call: () => Promise<T>) => Promise<T>;

async function revokeCertificate(
  iot: IoTClient,
  thingName: string,
  certificateArn: string,
  certificateId: string,
  run: Step,
  retry: RetryOptions | undefined,
): Promise<RevokedCertificate> {
  const users = await run(`list things of certificate ${certificateId}`, () => principalThings(iot, certificateArn));
  const sharedWith = users.filter((thing) => thing !== thingName);
  if (sharedWith.length > 0) {
    await run(`detach certificate ${certificateId}`, () =>
      iot.send(new DetachThingPrincipalCommand({ thingName, principal: certificateArn })),
    );
    return { certificateId, deleted: false, detachedPolicies: [], sharedWith };
  }
  await run(`deactivate certificate ${certificateId}`, async () => {
    try {
      await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    } catch (error) {
      // Already REVOKED (or being transferred): it cannot become INACTIVE, and it cannot connect either.
      if ((error as Error).name !== 'CertificateStateException') throw error;
    }
  });
  const policies = await run(`list policies of certificate ${certificateId}`, () =>
    attachedPolicies(iot, certificateArn),
  );
  for (const policyName of policies) {
    await run(`detach policy ${policyName}`, () =>
      iot.send(new DetachPolicyCommand({ policyName, target: certificateArn })),
    );
  }
  await run(`detach certificate ${certificateId}`, () =>
    iot.send(new DetachThingPrincipalCommand({ thingName, principal: certificateArn })),
  );
  await run(`delete certificate ${certificateId}`, () =>
    retryWhile(stillAttached, () => iot.send(new DeleteCertificateCommand({ certificateId })), retry),
  );
  return { certificateId, deleted: true, detachedPolicies: policies, sharedWith: [] };
}

/** The things a principal is attached to, every page. */
export function principalThings(iot: IoTClient, principal: string): Promise<string[]> {
  return collectPages(async (nextToken) => {
    const page = await iot.send(new ListPrincipalThingsCommand({ principal, ...(nextToken ? { nextToken } : {}) }));
    return { items: page.things, next: page.nextToken };
  });
}

/** The names of the policies attached to a principal, every page. */
export async function attachedPolicies(iot: IoTClient, target: string): Promise<string[]> {
  const policies = await collectPages(async (marker) => {
    const page = await iot.send(new ListAttachedPoliciesCommand({ target, ...(marker ? { marker } : {}) }));
    return { items: page.policies, next: page.nextMarker };
  });
  return policies.flatMap((policy) => (policy.policyName ? [policy.policyName] : []));
}

/** Removes the files provisioning writes, then the folder if nothing else is in it. */
async function deleteCredentialFiles(directory: string): Promise<string[]> {
  const deleted: string[] = [];
  for (const file of Object.values(CREDENTIAL_FILES)) {
    const path = join(directory, file);
    try {
      await rm(path);
      deleted.push(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const rest = await readdir(directory).catch(() => undefined);
  if (rest?.length === 0) await rmdir(directory);
  return deleted;
}
