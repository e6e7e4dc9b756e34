/**
 * Simulator benchmark (a script, not a test): `npx tsx test/bench/simulator.ts`.
 *
 * Against an aedes broker in a child process on loopback (so CPU figures count only the simulator), it measures:
 * - unlimited rate, QoS 1 and QoS 0: publishes per second (issued, and until the last PUBACK) and the
 *   simulator's CPU per message (connecting and disconnecting included), for 100 devices;
 * - rate control: the achieved rate for targets of 1,000 and 5,000 messages per second;
 * - connecting 1,000 devices, 20 handshakes at a time (the default) and 100 at a time.
 * Each throughput figure is the median of 3 runs after a warm-up; the broker's own count is checked against
 * what the simulator reports sent.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runSimulation, type SimulationOptions, type SimulationSummary } from '../../tools/simulate';

const RUNS = 3;

interface Broker {
  readonly url: string;
  received(): Promise<number>;
  stop(): void;
}

async function startBroker(): Promise<Broker> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${__dirname}/mqtt-broker.ts`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: { resolve: (line: Record<string, unknown>) => void; reject: (error: Error) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.once('exit', (code) => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`broker exited with ${code}`));
  });
  const next = () => new Promise<Record<string, unknown>>((resolve, reject) => waiting.push({ resolve, reject }));
  const { url } = (await next()) as { url: string };
  return {
    url,
    received: async () => {
      const answer = next();
      child.stdin.write('\n');
      return (await answer).received as number;
    },
    stop: () => child.stdin.end(),
  };
}

interface Figure {
  /** Publishes issued per second. */
  readonly messagesPerSecond: number;
  /** Publishes per second until the last one was acknowledged. */
  readonly acknowledgedPerSecond: number;
  readonly cpuMicrosPerMessage: number;
  readonly summary: SimulationSummary;
}

async function measure(broker: Broker, options: Omit<SimulationOptions, 'url'>): Promise<Figure> {
  const before = await broker.received();
  const cpu = process.cpuUsage();
  const summary = await runSimulation({ url: broker.url, ...options });
  const used = process.cpuUsage(cpu);
  const arrived = (await broker.received()) - before;
  if (arrived !== summary.sent || summary.errors.count > 0) {
    throw new Error(`broker received ${arrived}, simulator sent ${summary.sent}, errors ${summary.errors.count}`);
  }
  return {
    messagesPerSecond: summary.achievedRate,
    acknowledgedPerSecond: (summary.sent * 1000) / (summary.publishMs + summary.drainMs),
    // Includes connecting and ending the clients: what a run really costs per message.
    cpuMicrosPerMessage: (used.user + used.system) / summary.sent,
    summary,
  };
}

async function median(run: () => Promise<Figure>): Promise<Figure> {
  await run(); // warm-up
  const figures: Figure[] = [];
  for (let i = 0; i < RUNS; i++) figures.push(await run());
  figures.sort((a, b) => a.messagesPerSecond - b.messagesPerSecond);
  return figures[Math.floor(RUNS / 2)] as Figure;
}

const round = (value: number) => Math.round(value).toLocaleString('en-US');

async function main(): Promise<void> {
  const broker = await startBroker();
  try {
    console.log('Simulator against aedes on loopback (broker in its own process)\n');
    console.log('| scenario | sent/s | sent/s until the last PUBACK | simulator CPU µs/message |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const qos of [1, 0] as const) {
      const figure = await median(() =>
        measure(broker, { devices: 100, messagesPerDevice: 500, rate: Number.POSITIVE_INFINITY, qos, seed: 1 }),
      );
      console.log(
        `| 100 devices × 500, unlimited, QoS ${qos} | ${round(figure.messagesPerSecond)} | ${qos === 1 ? round(figure.acknowledgedPerSecond) : '–'} | ${figure.cpuMicrosPerMessage.toFixed(1)} |`,
      );
    }
    for (const rate of [1_000, 5_000]) {
      const figure = await median(() => measure(broker, { devices: 100, durationMs: 3_000, rate, qos: 1, seed: 1 }));
      console.log(
        `| 100 devices for 3 s, rate ${round(rate)}/s, QoS 1 | ${round(figure.messagesPerSecond)} | ${round(figure.acknowledgedPerSecond)} | ${figure.cpuMicrosPerMessage.toFixed(1)} |`,
      );
    }
    console.log('\n| connecting 1,000 devices | connect time (ms) | RSS after (MiB) |');
    console.log('| --- | ---: | ---: |');
    for (const connectConcurrency of [20, 100]) {
      const { summary } = await measure(broker, {
        devices: 1_000,
        messagesPerDevice: 1,
        rate: Number.POSITIVE_INFINITY,
        connectConcurrency,
        seed: 1,
      });
      const rss = process.memoryUsage().rss / 2 ** 20;
      console.log(`| ${connectConcurrency} handshakes at a time | ${round(summary.connectMs)} | ${rss.toFixed(0)} |`);
    }
  } finally {
    broker.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
