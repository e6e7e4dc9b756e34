/** `status`: queue depths, failure stores, consumer lag and freshness of the deployed pipeline, on one screen. */

import { UserError } from '../../contracts/errors';
import type { CommandGroup } from '../program';
import type { Part, StatusReport } from '../status';

const seconds = (ms: number | null) => (ms === null ? 'no data' : `${(ms / 1000).toFixed(1)} s`);

function line<T>(label: string, value: Part<T>, render: (value: T) => string): string {
  return `  ${label.padEnd(22)} ${value.ok ? render(value.value) : `unavailable: ${value.error}`}`;
}

export function renderStatus(report: StatusReport): string {
  const depth = (d: { visible: number; inFlight: number }) => `${d.visible} waiting, ${d.inFlight} in flight`;
  return [
    `Pipeline ${report.pipeline} (${report.region}) at ${report.at}`,
    'Ingest (IoT rule → SQS)',
    line(
      'ingest queue',
      report.queues,
      (q) =>
        `${depth(q.ingest)}, oldest ${q.ingest.oldestAgeSeconds === null ? 'no data' : `${q.ingest.oldestAgeSeconds} s`}`,
    ),
    line('ingest-errors', report.queues, (q) => `${q.ingestErrors.visible}`),
    line('ingest-dlq', report.queues, (q) => `${q.deadLetter.visible}`),
    'Kafka (forwarder → topic → sink)',
    line(
      'sink consumer lag',
      report.kafka,
      (k) =>
        `${k.lag} record(s) behind on ${k.topic} (group ${k.group}, ${k.partitions} partitions${k.partitionsWithoutCommit ? `, ${k.partitionsWithoutCommit} without a commit yet` : ''})`,
    ),
    line('sink-dlt', report.deadLetterTopic, (d) =>
      d ? `${d.pending} pending on ${d.topic}` : 'none (on-demand event source)',
    ),
    'Sink (MongoDB)',
    line('quarantine', report.quarantine, (q) => `${q.records}`),
    line(
      'freshness',
      report.freshness,
      (f) =>
        `device → stored p50 ${seconds(f.deviceP50)}, p99 ${seconds(f.deviceP99)}; IoT → stored p50 ${seconds(f.ingestP50)}, p99 ${seconds(f.ingestP99)} (last ${f.windowMinutes} min)`,
    ),
    report.attention.length === 0
      ? 'All within the alarm thresholds.'
      : `Attention:\n${report.attention.map((a) => `  - ${a}`).join('\n')}`,
  ].join('\n');
}

export const statusCommand: CommandGroup = (program, kit) => {
  program
    .command('status')
    .description('One screen: queue depths, failure stores, consumer lag and freshness')
    .addHelpText(
      'after',
      `
Lines past the configured alarm thresholds (config "alarms") are listed under "Attention" with the next command
to run. A part that cannot be read is shown as unavailable and the exit code is 1.

Examples:
  $ npx telemetry-ops status
  $ npx telemetry-ops status --env prod --json`,
    )
    .action(
      kit.action(async (context) => {
        const { readStatus } = await import('../status');
        const report = await readStatus(context);
        context.out.result(report, renderStatus);
        const parts = [report.queues, report.kafka, report.deadLetterTopic, report.quarantine, report.freshness];
        const unavailable = parts.filter((p) => !p.ok).length;
        if (unavailable > 0) throw new UserError(`${unavailable} part(s) of the status could not be read`);
      }),
    );
};
