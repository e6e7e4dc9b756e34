/**
 * The pipeline's own metrics: what the forwarder and the sink emit as CloudWatch embedded metric format (EMF), per
 * record outcome, batch and freshness (`ForwarderMetric`, `SinkMetric`).
 */
import { MathExpression, type Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { FIVE_MINUTES } from '../alarms';

/** What publishes the EMF metrics: a `PipelineFunction` builds each with the exact dimensions it emits. */
export interface EmfMetricSource {
  /** One of the function's EMF metrics, with the namespace and dimensions it is published under. */
  metricEmf(metricName: string, props?: MetricOptions): Metric;
}

/** Which pipeline function a `RecordsMetricFactory` builds EMF metrics for. */
export interface RecordsMetricFactoryProps {
  /** The function whose EMF metrics to build (the forwarder or the sink). */
  readonly function: EmfMetricSource;
}

/** The EMF metrics of one pipeline function, each over five-minute periods. */
export class RecordsMetricFactory {
  private readonly function: EmfMetricSource;

  public constructor(props: RecordsMetricFactoryProps) {
    this.function = props.function;
  }

  /** An EMF metric summed per five minutes (records of one outcome). */
  public metricSum(metricName: string, label: string): Metric {
    return this.metricStatistic(metricName, 'Sum', label);
  }

  /** An EMF metric under `statistic` (`Average`, `Maximum`, `p50`, `p99`, …) per five minutes. */
  public metricStatistic(metricName: string, statistic: string, label: string): Metric {
    return this.function.metricEmf(metricName, { statistic, period: FIVE_MINUTES, label });
  }

  /**
   * `failed / received` records in percent, 0 without records (a division by zero would leave a gap). `idPrefix`
   * keeps the expression's metric ids apart from another such expression's on the same dashboard.
   */
  public metricFailedPercent(failedName: string, receivedName: string, idPrefix: string): MathExpression {
    const [failed, received] = [`${idPrefix.toLowerCase()}failed`, `${idPrefix.toLowerCase()}received`] as const;
    return new MathExpression({
      expression: `IF(${received} > 0, 100 * FILL(${failed}, 0) / ${received}, 0)`,
      usingMetrics: {
        [failed]: this.metricSum(failedName, failedName),
        [received]: this.metricSum(receivedName, receivedName),
      },
      period: FIVE_MINUTES,
      label: 'failed %',
    });
  }
}
