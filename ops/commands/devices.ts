/** `devices provision | list | revoke`: IoT things with a certificate and the stack's device policy. */

import type { Command } from 'commander';
import { UserError } from '../../contracts/errors';
import { aws } from '../aws-errors';
import type { RevokedDevice } from '../devices';
import { fields, table } from '../output';
import type { CommandGroup, CommandKit } from '../program';

/** The device operations (and the IoT client types with them) load only when a devices command runs. */
const operations = () => import('../devices');

/** Where credentials go unless `--out` says otherwise (git-ignored). */
export const DEFAULT_CREDENTIALS_DIR = 'devices';

export const devicesCommands: CommandGroup = (program, kit) => {
  const devices = program
    .command('devices')
    .description('Provision, list, revoke devices (IoT things) and sync their device policies');

  devices
    .command('provision')
    .description('Create a thing with keys, an active certificate and the stack’s device policy')
    .argument('<name>', 'thing name = MQTT client id = device id in the topic ([A-Za-z0-9:_-], 1–128)')
    .option(
      '-o, --out <dir>',
      'where the credentials are written (0600 files in a 0700 folder)',
      DEFAULT_CREDENTIALS_DIR,
    )
    .option('--attribute <key=value>', 'extra thing attribute (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .addHelpText(
      'after',
      `
Writes <out>/<name>/certificate.pem.crt, private.pem.key, public.pem.key and device.json, and prints the ATS data
endpoint and the exact topics the device may publish to. Nothing is left behind if a step fails.

Examples:
  $ npx telemetry-ops devices provision sensor-0001
  $ npx telemetry-ops simulate --url mqtts://<endpoint>:8883 --credentials-dir devices --device-ids sensor-0001`,
    )
    .action(
      kit.action(async (context, name: string, options: { out: string; attribute?: string[] }) => {
        const { deviceInputProblems, DeviceOptionsError, devicePlanFromStackOutputs, provisionDevice } =
          await operations();
        // What the user typed is checked before any AWS call: a bad name never waits for credentials.
        const attributes = Object.fromEntries(
          (options.attribute ?? []).map((pair) => {
            const at = pair.indexOf('=');
            if (at < 1) throw new UserError(`--attribute must be key=value, got "${pair}"`);
            return [pair.slice(0, at), pair.slice(at + 1)];
          }),
        );
        const problems = deviceInputProblems({ name, attributes });
        if (problems.length > 0) throw new DeviceOptionsError(problems);
        const plan = devicePlanFromStackOutputs(await context.stackOutputs());
        if (plan.policyNames.length === 0)
          throw new UserError(
            `Stack ${context.config.stackName} has no DevicePolicyName output: deploy the current version`,
          );
        const device = await aws(
          `provision ${name}`,
          provisionDevice(context.iot(), {
            name,
            policyNames: plan.policyNames,
            pipeline: context.config.stackName,
            outDir: options.out,
            attributes,
            routes: plan.routes,
          }),
        );
        context.out.result(device, (d) =>
          [
            fields({
              thing: d.thingName,
              certificate: d.certificateId,
              policies: d.policyNames.join(', '),
              endpoint: d.endpoint,
              url: d.url,
              credentials: d.files.directory,
            }),
            'publish to:',
            ...d.topics.map(
              (t) => `  ${t.topic}${t.basicIngestTopic ? `   (Basic Ingest: ${t.basicIngestTopic})` : ''}`,
            ),
          ].join('\n'),
        );
      }),
    );

  devices
    .command('list')
    .description('List the things of this pipeline with their certificates')
    .addHelpText('after', '\nExample:\n  $ npx telemetry-ops devices list --json')
    .action(
      kit.action(async (context) => {
        const { listDevices } = await operations();
        const list = await aws('list devices', listDevices(context.iot(), { pipeline: context.config.stackName }));
        context.out.result({ devices: list }, ({ devices: rows }) =>
          table(rows, [
            ['THING', (d) => d.thingName],
            [
              'CERTIFICATES',
              (d) => d.certificates.map((c) => `${c.certificateId.slice(0, 12)}… ${c.status}`).join(', '),
            ],
          ]),
        );
      }),
    );

  devices
    .command('revoke')
    .description('Deactivate and delete the device’s certificates, detach its policies, delete the thing')
    .argument('[name]', 'thing name')
    .option(
      '--all',
      'every device of this pipeline, and whatever else is attached to its device policy (before cdk destroy)',
    )
    .option('--delete-files', 'also delete its credential files')
    .option(
      '--delete-orphan-certificates',
      'with --all: delete the certificates on the device policies that no thing holds (all their policies detached), instead of only detaching this pipeline’s policies',
    )
    .option('-o, --out <dir>', 'where its credentials were written', DEFAULT_CREDENTIALS_DIR)
    .option('--yes', 'do it (revocation cannot be undone)')
    .addHelpText(
      'after',
      `
Each certificate is deactivated first, so the device is cut off even if a later step fails; a rerun finishes a
half-done revocation. A certificate other things also use is only detached from this one.

--all revokes every thing with the attribute pipeline=<stack>, then frees the stack's device policies
(ListTargetsForPolicy): whatever else is attached to them (a certificate from fleet provisioning or made by hand,
with or without a thing) only loses this pipeline's policies; its status, thing and other policies stay. Add
--delete-orphan-certificates to delete instead the certificates no thing holds (deactivated, every policy detached,
deleted). CloudFormation cannot delete a policy while anything is attached to it, so run this before
\`npx cdk destroy\`; it exits 1 while anything is still attached.

Examples:
  $ npx telemetry-ops devices revoke sensor-0001 --yes --delete-files
  $ npx telemetry-ops devices revoke --all --yes
  $ npx telemetry-ops devices revoke --all --yes --delete-orphan-certificates`,
    )
    .action(
      kit.action(
        async (
          context,
          name: string | undefined,
          options: {
            all?: boolean;
            deleteFiles?: boolean;
            deleteOrphanCertificates?: boolean;
            out: string;
            yes?: boolean;
          },
        ) => {
          const {
            deviceInputProblems,
            DeviceOptionsError,
            devicePlanFromStackOutputs,
            revokeDevice,
            revokePipelineDevices,
          } = await operations();
          if (Boolean(name) === Boolean(options.all))
            throw new UserError('devices revoke takes a device name or --all (every device of this pipeline)');
          if (options.deleteOrphanCertificates && !options.all)
            throw new UserError('--delete-orphan-certificates goes with --all');
          if (!options.yes)
            throw new UserError(
              `Revoking ${name ?? `every device of ${context.config.stackName}`} cannot be undone: add --yes`,
            );
          if (name) {
            const problems = deviceInputProblems({ name });
            if (problems.length > 0) throw new DeviceOptionsError(problems);
          }
          const files = { deleteFiles: Boolean(options.deleteFiles), outDir: options.out };
          if (name) {
            const revoked = await aws(`revoke ${name}`, revokeDevice(context.iot(), { name, ...files }));
            context.out.result(revoked, (r) => renderRevoked(r).join('\n'));
            return;
          }
          const { policyNames } = devicePlanFromStackOutputs(await context.stackOutputs());
          const policies = policyNames.join(', ');
          const result = await aws(
            `revoke the devices of ${context.config.stackName}`,
            revokePipelineDevices(context.iot(), {
              pipeline: context.config.stackName,
              policyNames,
              deleteOrphanCertificates: Boolean(options.deleteOrphanCertificates),
              ...files,
            }),
          );
          context.out.result(result, (r) =>
            [
              ...r.devices.flatMap(renderRevoked),
              ...r.otherTargets.map((t) =>
                t.action === 'deleted'
                  ? `deleted certificate ${t.target} (attached to the device policy, held by no thing; --delete-orphan-certificates)`
                  : `detached ${t.detached.join(', ')} from ${t.target}${t.heldBy ? ` (held by ${t.heldBy.join(', ')}, kept)` : ''}`,
              ),
              ...(r.devices.length + r.otherTargets.length === 0 ? ['no devices to revoke'] : []),
              ...(r.remainingTargets?.length === 0
                ? [
                    `nothing attached to ${policies}: \`npx cdk destroy\` can delete ${policyNames.length > 1 ? 'them' : 'it'}`,
                  ]
                : []),
            ].join('\n'),
          );
          const problems = [
            ...result.failures.map((failure) => `${failure.name}: ${failure.error}`),
            ...(result.remainingTargets && result.remainingTargets.length > 0
              ? [`still attached to ${policies}: ${result.remainingTargets.join(', ')}`]
              : []),
          ];
          if (problems.length > 0)
            throw new UserError(`devices revoke --all did not finish:\n  - ${problems.join('\n  - ')}\nRun it again.`);
        },
      ),
    );
  syncPoliciesCommand(devices, kit);
};

/** `devices sync-policies`: the certificates of provisioned devices brought to the stack's current device policies. */
function syncPoliciesCommand(devices: Command, kit: CommandKit) {
  devices
    .command('sync-policies')
    .description('Attach the stack’s current device policies to every device’s certificates, detach dropped ones')
    .option('--dry-run', 'only list what would change')
    .addHelpText(
      'after',
      `
For each certificate of each thing with the attribute pipeline=<stack>: attaches every device policy the stack has
now (outputs DevicePolicyName, DevicePolicyName2, …) that it lacks, then detaches every policy named as one of this
stack's device policies (<stack>-…DevicePolicy…-<suffix>) that the stack no longer has. Other policies stay. Run it
after a deploy that changed the number of device policies (more or fewer topic filters). Exits 1 if any certificate
could not be synced; a rerun resumes.

Examples:
  $ npx telemetry-ops devices sync-policies --dry-run
  $ npx telemetry-ops devices sync-policies`,
    )
    .action(
      kit.action(async (context, options: { dryRun?: boolean }) => {
        const { devicePlanFromStackOutputs, syncDevicePolicies } = await operations();
        const { policyNames } = devicePlanFromStackOutputs(await context.stackOutputs());
        if (policyNames.length === 0)
          throw new UserError(
            `Stack ${context.config.stackName} has no DevicePolicyName output: deploy the current version`,
          );
        const result = await aws(
          `sync the device policies of ${context.config.stackName}`,
          syncDevicePolicies(context.iot(), {
            pipeline: context.config.stackName,
            policyNames,
            dryRun: Boolean(options.dryRun),
          }),
        );
        const verb = options.dryRun ? 'would ' : '';
        context.out.result(result, (r) =>
          [
            ...r.changed.map(
              (c) =>
                `${c.thingName} ${c.certificateArn}: ${[
                  ...(c.attached.length > 0 ? [`${verb}attach ${c.attached.join(', ')}`] : []),
                  ...(c.detached.length > 0 ? [`${verb}detach ${c.detached.join(', ')}`] : []),
                ].join('; ')}`,
            ),
            `${r.changed.length} certificate(s) ${options.dryRun ? 'to change' : 'changed'}, ${r.inSync} already in sync`,
          ].join('\n'),
        );
        if (result.failures.length > 0)
          throw new UserError(
            `devices sync-policies did not finish:\n  - ${result.failures.map((f) => `${f.name}: ${f.error}`).join('\n  - ')}\nRun it again.`,
          );
      }),
    );
}

function renderRevoked(r: RevokedDevice): string[] {
  return [
    `revoked ${r.thingName}`,
    ...r.certificates.map(
      (c) =>
        `  certificate ${c.certificateId}: ${c.deleted ? 'deleted' : `kept (shared with ${c.sharedWith.join(', ')})`}`,
    ),
    ...(r.deletedFiles.length > 0 ? [`  deleted ${r.deletedFiles.length} credential file(s)`] : []),
  ];
}
