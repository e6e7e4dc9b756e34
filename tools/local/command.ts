/** `local`: the whole pipeline on this machine, with the deployed handlers (tools/local). */
import { Option } from 'commander';
import { SQS_MAX_VISIBILITY_TIMEOUT_SECONDS } from '../../contracts/limits';
import { DASHBOARD_DEFAULTS } from '../../ops/dashboard/defaults';
import { decimal, wholeNumber } from '../../ops/options';
import type { CommandGroup } from '../../ops/program';

interface LocalOptions {
  mqttPort: number;
  mqttHost: string;
  mqttUrl?: string;
  forwarderConcurrency?: number;
  visibilityTimeout?: number;
  logLevel: string;
  demo?: boolean;
  seed?: number;
  duration?: number;
  logFile?: string;
  dashboard: boolean;
  dashboardPort: number;
}

export const localCommand: CommandGroup = (program, kit) => {
  program
    .command('local')
    .description(
      'Run the pipeline on this machine: MQTT broker, IoT rule enrichment, ingest queue, the forwarder and sink as bundled for Lambda, Kafka, MongoDB (or an in-memory store)',
    )
    .option('--demo', 'also run a small simulated fleet (a few duplicates, out-of-order and malformed messages)')
    .addOption(new Option('--seed <n>', "seed of the demo fleet's readings and faults").argParser(wholeNumber(0)))
    .option(
      '--duration <seconds>',
      'stop after this long, print the summary, exit 1 unless every acknowledged reading is stored or in a failure store (default: until Ctrl-C)',
      decimal(1),
    )
    .option(
      '--log-file <path>',
      "where the functions' logs go (default: telemetry-ops-local-<stack>.log in the temp directory)",
    )
    .option('--mqtt-port <port>', 'port of the embedded MQTT broker (0: any free port)', wholeNumber(0, 65_535), 1883)
    .option('--mqtt-host <address>', 'address it listens on (0.0.0.0: devices on your network too)', '127.0.0.1')
    .addOption(
      new Option(
        '--mqtt-url <url>',
        'subscribe to this broker instead (Mosquitto, HiveMQ: mqtt://host:1883)',
      ).conflicts(['mqttPort', 'mqttHost']),
    )
    .option(
      '--forwarder-concurrency <n>',
      'forwarder invocations at a time (default: forwarder.maxConcurrency, at most 4)',
      wholeNumber(1, 1_000),
    )
    .option(
      '--visibility-timeout <seconds>',
      "seconds before a message the forwarder did not acknowledge comes back (default: the stack's, 6 × forwarder.timeoutSeconds + the batching window; at least forwarder.timeoutSeconds)",
      wholeNumber(1, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS),
    )
    .option(
      '--dashboard-port <port>',
      'port of the sensor-data dashboard on 127.0.0.1 (0: any free port; a port in use: a free one, as the banner says)',
      wholeNumber(0, 65_535),
      DASHBOARD_DEFAULTS.port,
    )
    .addOption(new Option('--no-dashboard', 'do not serve the dashboard').conflicts('dashboardPort'))
    .addOption(
      new Option('--log-level <level>', "the functions' log level (their JSON logs go to the log file)")
        .choices(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'])
        .default('WARN'),
    )
    .addHelpText(
      'after',
      `
What runs where:
  MQTT      an embedded broker (aedes), or --mqtt-url; each topic filter of iot.topicFilters is a rule, also
            reachable through Basic Ingest ($aws/rules/<rule>/<topic>); enrichment as the rule SQL does it
  SQS       the ingest queue and its dead-letter queue in memory: batch size and window of the forwarder section,
            visibility timeout, redelivery of batchItemFailures, dead-letter queue after ingest.maxReceiveCount
  Lambda    the forwarder and sink bundled by esbuild with the stack's options, each concurrent invocation in a
            worker thread of its own holding the environment the stack sets
  Kafka     KAFKA_BROKERS (plaintext; missing topics are created), or else librdkafka's mock cluster: in memory,
            at most 5 MiB per partition (a sink further behind loses records, and says so)
  sink      a consumer group feeding Lambda-shaped batches (sink section): partial batch responses, bounded
            retries, then Lambda's on-failure document to the sink dead-letter topic
  MongoDB   MONGODB_URI, or else an in-memory document store (mingo): not persistent, gone when it stops
  fleet     with --demo, 5 simulated sensors (tools/simulate) publishing to the embedded broker
  dashboard the sensor-data dashboard (as \`npx telemetry-ops dashboard\`) over that store, on 127.0.0.1; the
            banner prints its URL; the page is built with esbuild on its first request

Environment:
  KAFKA_BROKERS   host:port,…  (default: the mock cluster, needs librdkafka: apt-get install librdkafka1)
  MONGODB_URI     mongodb://…  (default: the in-memory store)

Counters go to stderr, the functions' logs to the log file the banner names. While it runs, \`npx telemetry-ops
failures list --local\` lists every dead letter and quarantined record. On Ctrl-C (or after --duration) it stops
and prints what went through and the dead-lettered messages. The ingest queue lives in memory: what it still holds
then is dropped. Needs the dev dependencies (esbuild, koffi).

Examples:
  $ npx telemetry-ops local --demo --duration 30
  $ npx telemetry-ops local --demo              # until Ctrl-C; \`failures list --local\` in another terminal
  $ docker compose up -d mongodb
  $ MONGODB_URI=mongodb://localhost:27017 npx telemetry-ops local
  $ docker compose --profile mqtt up -d        # Mosquitto, Kafka (KRaft) and MongoDB
  $ KAFKA_BROKERS=localhost:9092 MONGODB_URI=mongodb://localhost:27017 npx telemetry-ops local --mqtt-url mqtt://localhost:1883`,
    )
    .action(
      kit.action(async (context, options: LocalOptions) => {
        // The pipeline (esbuild bundles, the librdkafka mock through koffi, the MQTT broker) loads only when it runs.
        const { serveLocal } = await import('./serve');
        await serveLocal(context, options, kit.deps.signal);
      }),
    );
};
