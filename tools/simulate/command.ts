/** `simulate`: a fleet of virtual sensors publishing telemetry over MQTT (AWS IoT Core or any broker). */
import { Option } from 'commander';
import { UserError } from '../../contracts/errors';
import type { PipelineConfig } from '../../lib/config/schema';
import { deviceTopic } from '../../lib/ingest/rule-sql';
import { provisionedDeviceNames } from '../../ops/devices/files';
import { decimal, wholeNumber } from '../../ops/options';
import { fields, type Output, type Progress } from '../../ops/output';
import type { CommandGroup } from '../../ops/program';
import type { SimulationOptions, SimulationProgress, SimulationSummary } from '.';

interface SimulateOptions {
  url: string;
  devices?: number;
  deviceIds?: string;
  prefix: string;
  topic?: string;
  qos: number;
  rate: number;
  messages?: number;
  duration?: number;
  seed?: number;
  duplicates: number;
  outOfOrder: number;
  malformed: number;
  credentialsDir?: string;
  cert?: string;
  key?: string;
  ca?: string;
  insecure?: boolean;
  username?: string;
}

export const simulateCommand: CommandGroup = (program, kit) => {
  program
    .command('simulate')
    .description('Run virtual sensors that publish temperature, humidity and pressure over MQTT')
    .option(
      '--url <url>',
      'broker: mqtt://, mqtts://, ws://, wss:// (IoT Core: mqtts://<ATS endpoint>:8883)',
      'mqtt://localhost:1883',
    )
    .option('-d, --devices <n>', 'number of devices (ids <prefix>0001…)', wholeNumber(1, 100_000))
    .addOption(new Option('--device-ids <ids>', 'comma-separated device ids instead of --devices').conflicts('devices'))
    .option('--prefix <prefix>', 'device id prefix', 'sim-sensor-')
    .option('--topic <template>', 'topic, {deviceId} replaced (default: the first iot.topicFilters entry)')
    .option('--qos <0|1>', 'MQTT QoS', wholeNumber(0, 1), 1)
    .option(
      '-r, --rate <msg/s>',
      'publishes per second across the fleet (Infinity: as fast as acks allow)',
      decimal(0.001, Number.POSITIVE_INFINITY),
      10,
    )
    .option('-n, --messages <n>', 'readings per device (default 10 unless --duration)', wholeNumber(1))
    .addOption(
      new Option('--duration <seconds>', 'publish for this long instead of a count')
        .argParser(decimal(0.001))
        .conflicts('messages'),
    )
    .option('--seed <n>', 'seed for readings and faults (reported in the summary)', wholeNumber(0))
    .option('--duplicates <rate>', 'share of readings sent twice (0–1)', decimal(0, 1), 0)
    .option('--out-of-order <rate>', 'share of readings held back and sent after a later one (0–1)', decimal(0, 1), 0)
    .option('--malformed <rate>', 'share of extra malformed messages (0–1)', decimal(0, 1), 0)
    .option('--credentials-dir <dir>', 'per-device certificates as `devices provision` writes them')
    .option('--cert <file>', 'one client certificate for every device (with --key)')
    .option('--key <file>', 'its private key')
    .option('--ca <file>', 'CA bundle of a private broker')
    .option('--insecure', 'do not verify the broker certificate (throwaway local brokers only)')
    .option('--username <name>', 'broker user name (password from MQTT_PASSWORD)')
    .addHelpText(
      'after',
      `
Each device connects with its id as MQTT client id (as the IoT device policy requires) and publishes
{"ts", "seq", "readings": {"temperature", "humidity", "pressure"}} with drift and noise. Ctrl-C stops cleanly.

Examples:
  $ npx telemetry-ops simulate --devices 100 --rate 500 --messages 50           # the local pipeline's broker
  $ npx telemetry-ops simulate --devices 50 --duplicates 0.05 --out-of-order 0.05 --malformed 0.01
  $ npx telemetry-ops simulate --url mqtts://abc-ats.iot.eu-west-1.amazonaws.com:8883 --credentials-dir devices --rate 20`,
    )
    .action(
      kit.action(async (context, options: SimulateOptions) => {
        const filter = context.config.iot.topicFilters[0] ?? 'sensors/+/telemetry';
        let devices: number | string[] = options.devices ?? 10;
        if (options.deviceIds)
          devices = options.deviceIds
            .split(',')
            .map((id) => id.trim())
            .filter(Boolean);
        else if (options.credentialsDir && options.devices === undefined)
          devices = await provisionedDeviceNames(options.credentialsDir);
        const tls: NonNullable<SimulationOptions['tls']> = {
          ...(options.credentialsDir ? { credentialsDir: options.credentialsDir } : {}),
          ...(options.cert ? { certFile: options.cert } : {}),
          ...(options.key ? { keyFile: options.key } : {}),
          ...(options.ca ? { caFile: options.ca } : {}),
          ...(options.insecure ? { rejectUnauthorized: false } : {}),
        };
        const topicTemplate = options.topic ?? deviceTopic(filter, '{deviceId}');
        const firstDevice = Array.isArray(devices) ? devices[0] : `${options.prefix}0001`;
        if (firstDevice !== undefined) {
          const unmatched = await unmatchedTopicNote(
            context.config,
            topicTemplate.replaceAll('{deviceId}', firstDevice),
          );
          if (unmatched) context.out.note(unmatched);
        }
        const progress = new SimulationProgressLine(context.out);
        // The simulator (the MQTT client and its TLS) loads only when it runs.
        const { runSimulation } = await import('.');
        const summary = await runSimulation({
          url: options.url,
          devices,
          deviceIdPrefix: options.prefix,
          topicTemplate,
          qos: options.qos === 0 ? 0 : 1,
          rate: options.rate,
          ...(options.duration !== undefined
            ? { durationMs: options.duration * 1000 }
            : { messagesPerDevice: options.messages ?? 10 }),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          faults: { duplicate: options.duplicates, outOfOrder: options.outOfOrder, malformed: options.malformed },
          ...(Object.keys(tls).length > 0 ? { tls } : {}),
          ...(options.username
            ? { username: options.username, password: context.environment.MQTT_PASSWORD ?? '' }
            : {}),
          ...(kit.deps.signal ? { signal: kit.deps.signal } : {}),
          onProgress: (p) => progress.show(p),
        });
        progress.stop();
        context.out.result(summary, renderSummary);
        if (summary.errors.count > 0)
          throw new UserError(`${summary.errors.count} publish error(s), e.g. ${summary.errors.samples[0] ?? ''}`);
      }),
    );
};

function renderSummary(s: SimulationSummary): string {
  return fields({
    devices: `${s.connected}/${s.devices} connected`,
    sent: `${s.sent} (${s.readings} readings, ${s.duplicates} duplicates, ${s.outOfOrder} out of order, ${s.malformed} malformed)`,
    acknowledged: s.acknowledged,
    errors: s.errors.count,
    rate: `${Math.round(s.achievedRate)} msg/s`,
    elapsed: `${(s.elapsedMs / 1000).toFixed(1)} s${s.aborted ? ' (stopped early)' : ''}`,
    seed: s.seed,
  });
}

/**
 * The note for a topic no IoT rule of the configuration selects, directly or through Basic Ingest (then the
 * readings reach the broker but never the pipeline), or undefined when a rule selects it.
 */
async function unmatchedTopicNote(config: PipelineConfig, topic: string): Promise<string | undefined> {
  const [{ matchRules }, { localSettings }] = await Promise.all([
    import('../local/iot-rule'),
    import('../local/settings'),
  ]);
  if (matchRules(localSettings(config).rules, topic).length > 0) return undefined;
  return `note: topic ${topic} matches no topic filter of iot.topicFilters (${config.iot.topicFilters.join(', ')}), directly or through Basic Ingest: the pipeline will not pick these readings up`;
}

/**
 * The progress line, true in every phase: devices connected of the fleet while connecting; then readings sent of
 * those planned when running for a count (duplicates and malformed extras are not planned, so they are not counted
 * against the total), or seconds published of `--duration`, with what was sent and acknowledged.
 */
class SimulationProgressLine {
  private phase: 'connecting' | 'publishing' | undefined;
  private line: Progress | undefined;

  public constructor(private readonly out: Output) {}

  public show(p: SimulationProgress): void {
    const phase = p.phase === 'connecting' ? 'connecting' : 'publishing';
    if (phase !== this.phase) {
      this.line?.stop();
      this.phase = phase;
      this.line =
        phase === 'connecting'
          ? this.out.progress('connecting', p.devices, ' devices')
          : p.durationMs !== undefined
            ? this.out.progress('publishing', seconds(p.durationMs), ' s')
            : this.out.progress('publishing', p.plannedReadings ?? 0, ' readings');
    }
    if (phase === 'connecting') {
      this.line?.update(p.connected);
      return;
    }
    const sent = `| sent ${p.sent}, acknowledged ${p.acknowledged}${p.errors > 0 ? `, errors ${p.errors}` : ''}`;
    const value = p.durationMs !== undefined ? Math.min(seconds(p.durationMs), seconds(p.publishingMs)) : p.readings;
    this.line?.update(value, sent);
  }

  public stop(): void {
    this.line?.stop();
  }
}

/** Milliseconds as seconds with one decimal, as the bar shows them. */
const seconds = (ms: number) => Math.round(ms / 100) / 10;
