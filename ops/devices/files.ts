/**
 * The on-disk layout of a provisioned device's credentials, shared by provisioning (which writes it) and the
 * simulator (which reads it): `<dir>/<thingName>/{certificate.pem.crt, private.pem.key, public.pem.key, device.json}`.
 */
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const CREDENTIAL_FILES = {
  certificate: 'certificate.pem.crt',
  privateKey: 'private.pem.key',
  publicKey: 'public.pem.key',
  /** Thing name, certificate, endpoint and topics; no secrets. */
  metadata: 'device.json',
} as const;

/** Private keys and certificates: owner read/write only. */
export const FILE_MODE = 0o600;
/** A device's folder: owner only. */
export const DIRECTORY_MODE = 0o700;

/** Names of the devices under `dir` that have both a certificate and a private key, sorted. */
export async function provisionedDeviceNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const present = await Promise.all(
      [CREDENTIAL_FILES.certificate, CREDENTIAL_FILES.privateKey].map((file) =>
        access(join(dir, entry.name, file)).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (present.every(Boolean)) names.push(entry.name);
  }
  return names.sort();
}
