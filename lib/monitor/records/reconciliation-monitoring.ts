import { type IMetric, type IWidget, MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { GraphWidgetType, Monitoring, type MonitoringScope } from 'cdk-monitoring-constructs';
import { ForwarderMetric, SinkMetric } from '../../../contracts/metrics';
import { FIVE_MINUTES } from '../alarms';
import type { IotRuleMetricFactory } from '../iot-rule/iot-rule-metric-factory';
import { segmentWidgets } from '../segment-widgets';
import type { RecordsMetricFactory } from './records-metric-factory';

/** The metric factories of the stages whose totals `ReconciliationMonitoring` puts side by side. */
export interface ReconciliationMonitoringProps {
  /** The metrics of each IoT rule that routes into the ingest queue: their matches are the first stage. */
  readonly rules: readonly IotRuleMetricFactory[];
  /** The forwarder's EMF metrics. */
  readonly forwarder: RecordsMetricFactory;
  /** The sink's EMF metrics. */
  readonly sink: RecordsMetricFactory;
}

/**
 * One bar per stage, each the total over the dashboard's time range, so drift between two stages shows at a glance.
 * Graphs only: the other segments alarm on each stage's failures.
 */
export class ReconciliationMonitoring extends Monitoring {
  /** The header of the segment's rows on the dashboard, as cdk-monitoring-constructs' own segments have one. */
  public readonly title = 'Stage reconciliation (totals over the time range)';
  /** The note under the header saying how the stages' totals relate, so a reader can tell a growing gap from normal. */
  public readonly description =
    'Matched ≈ forwarded + invalid at forward (+ dead-lettered, error queue); stored (written + duplicates) ≥ forwarded − quarantined at sink. A gap that grows is records stuck or lost between two stages.';

  private readonly metrics: readonly IMetric[];

  public constructor(scope: MonitoringScope, props: ReconciliationMonitoringProps) {
    super(scope);
    const matched: Record<string, IMetric> = {};
    props.rules.forEach((rule, i) => {
      matched[`rule${i + 1}`] = rule.metricTopicMatch();
    });
    const { forwarder, sink } = props;
    this.metrics = [
      new MathExpression({
        expression: `SUM([${Object.keys(matched)
          .map((key) => `FILL(${key}, 0)`)
          .join(', ')}])`,
        usingMetrics: matched,
        period: FIVE_MINUTES,
        label: 'Matched by the IoT rules',
      }),
      forwarder.metricSum(ForwarderMetric.Forwarded, 'Forwarded to Kafka'),
      forwarder.metricSum(ForwarderMetric.Invalid, 'Invalid at forward'),
      new MathExpression({
        expression: 'FILL(written, 0) + FILL(duplicates, 0)',
        usingMetrics: {
          written: sink.metricSum(SinkMetric.Written, 'written'),
          duplicates: sink.metricSum(SinkMetric.Duplicates, 'duplicates'),
        },
        period: FIVE_MINUTES,
        label: 'Stored at sink (written + duplicates)',
      }),
      sink.metricSum(SinkMetric.Invalid, 'Quarantined at sink'),
    ];
  }

  /**
   * The segment's rows, which the facade adds to the dashboard: a header with the title, the description, then one
   * full-width bar graph of the records per stage.
   */
  public widgets(): IWidget[] {
    return segmentWidgets(
      this.title,
      [{ title: 'Records per stage', type: GraphWidgetType.BAR, width: 24, metrics: this.metrics }],
      this.description,
    );
  }
}
