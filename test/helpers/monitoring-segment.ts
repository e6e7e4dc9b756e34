/** Synthesizes one monitoring segment alone, on a facade set up as `PipelineMonitoring` sets up its own. */
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type AlarmBase, Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { DefaultDashboardFactory, type Monitoring, MonitoringFacade } from 'cdk-monitoring-constructs';
import { AlarmNaming } from '../../lib/monitor/alarms';
import type { EmfMetricSource } from '../../lib/monitor/records/records-metric-factory';
import { inReadingOrder, onlyDashboard, type Widget } from './cloudwatch';

/** The alarm name prefix of every segment built here. */
export const SEGMENT_PIPELINE = 'Pipe';
export const segmentNaming = new AlarmNaming(SEGMENT_PIPELINE);

export interface SynthesizedSegment<T extends Monitoring> {
  readonly stack: Stack;
  readonly segment: T;
  readonly template: Template;
  /** The segment's widgets in reading order (the facade adds no others). */
  readonly widgets: Widget[];
  /** The graph widgets' titles, in reading order. */
  readonly graphTitles: string[];
  /** The synthesized properties of one of the segment's alarms. */
  alarm(alarm: AlarmBase): Record<string, unknown>;
}

export function synthSegment<T extends Monitoring>(build: (facade: MonitoringFacade, stack: Stack) => T) {
  const stack = new Stack(new App(), 'Segment');
  const dashboardFactory = new DefaultDashboardFactory(stack, 'Dashboards', { dashboardNamePrefix: SEGMENT_PIPELINE });
  const facade = new MonitoringFacade(stack, 'Facade', {
    alarmFactoryDefaults: { alarmNamePrefix: SEGMENT_PIPELINE, actionsEnabled: true },
    dashboardFactory,
  });
  const segment = build(facade, stack);
  facade.addSegment(segment);
  const template = Template.fromStack(stack);
  const widgets = inReadingOrder(onlyDashboard(template).widgets);
  const resources = template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
  return {
    stack,
    segment,
    template,
    widgets,
    graphTitles: widgets.filter((w) => w.type === 'metric').map((w) => String(w.properties.title)),
    alarm: (alarm: AlarmBase) => {
      const resource = resources[stack.getLogicalId(alarm.node.defaultChild as CfnElement)];
      if (!resource) throw new Error(`alarm ${alarm.node.path} is not in the template`);
      return resource.Properties;
    },
  } satisfies SynthesizedSegment<T>;
}

/** An EMF metric source like `PipelineFunction`: namespace `Test`, dimensions `service` and `pipeline`. */
export function emfSource(service: string): EmfMetricSource {
  return {
    metricEmf: (metricName: string, props: MetricOptions = {}) =>
      new Metric({ namespace: 'Test', metricName, dimensionsMap: { service, pipeline: SEGMENT_PIPELINE }, ...props }),
  };
}

/** `Metrics` of a metric-math alarm: the expression, and each input's metric name by its id. */
export function mathOf(properties: Record<string, unknown>) {
  const metrics = properties.Metrics as {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: Record<string, unknown> };
  }[];
  return {
    expression: metrics.find((m) => m.Expression)?.Expression,
    ids: Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.MetricStat?.Metric.MetricName, m.Id])),
  };
}
