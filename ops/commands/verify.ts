/** `verify`: a smoke check of the deployed pipeline, one line per check with what to do, exit 1 on any failure. */
import { UserError } from '../../contracts/errors';
import { wholeNumber } from '../options';
import type { CommandGroup } from '../program';
import { CANARY_DEVICE_ID } from '../verify-canary';

export const verifyCommand: CommandGroup = (program, kit) => {
  program
    .command('verify')
    .description(
      'After a deploy: secrets, Kafka topics, a canary reading through IoT Core to MongoDB, the event source, the alarm topic',
    )
    .option(
      '--timeout <seconds>',
      'how long to wait for the canary in MongoDB and for the alarm notification',
      wholeNumber(5, 900),
      90,
    )
    .addHelpText(
      'after',
      `
Checks, each one line with ✓ or ✗ and what to do:
  Confluent secret, Atlas secret   filled and well-formed (values are never printed)
  Kafka topics                     the pipeline topic and the sink's dead-letter topic exist
  canary reading                   one reading published with iot-data Publish to the device topic of
                                   "${CANARY_DEVICE_ID}" arrives in MongoDB; the time IoT, the forwarder and the sink took
  Kafka event source               the sink's mapping is Enabled and its last processing result is OK
  alarm topic                      one of the stack's alarms in OK (else INSUFFICIENT_DATA, never ALARM) is set to
                                   ALARM, CloudWatch must have published to the alarm topic, then it is set back to
                                   the state it was in (subscribers get both notifications); skipped (–) when every
                                   alarm is in ALARM

Needs AWS credentials allowed cloudformation:DescribeStacks, secretsmanager:GetSecretValue on both secrets,
iot:DescribeEndpoint, iot:Publish on the canary topic, lambda:ListEventSourceMappings/GetEventSourceMapping,
cloudwatch:DescribeAlarms/SetAlarmState/DescribeAlarmHistory; a Confluent key with DESCRIBE and READ on the topics
and READ on groups prefixed telemetry-ops-read-; and MongoDB access (MONGODB_URI, e.g. a read-only user, or the URI
secret). The canary reading stays in MongoDB under its device id. Exit 1 if any check fails.

Examples:
  $ npx telemetry-ops verify
  $ MONGODB_URI='mongodb+srv://reader:…@cluster0.example.mongodb.net/' npx telemetry-ops verify --env prod --json`,
    )
    .action(
      kit.action(async (context, options: { timeout: number }) => {
        const { renderVerify, runVerify } = await import('../verify');
        const report = await runVerify(context, { timeoutMs: options.timeout * 1_000 });
        context.out.result(report, renderVerify);
        const failed = report.checks.filter((check) => !check.ok);
        if (failed.length > 0)
          throw new UserError(`${failed.length} check(s) failed: ${failed.map((check) => check.name).join(', ')}`);
      }),
    );
};
