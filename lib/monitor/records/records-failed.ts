import type { AlarmWithAnnotation, CustomAlarmFactory } from 'cdk-monitoring-constructs';
import { type AlarmNaming, alarmAbove, FIVE_MINUTES_TWO_OF_THREE, type PipelineAlarmName } from '../alarms';
import type { SegmentGraph } from '../segment-widgets';
import type { RecordsMetricFactory } from './records-metric-factory';

/** What a records-failed graph and its alarm need to know about one function. */
export interface RecordsFailedProps {
  /** The function's EMF metrics. */
  readonly metrics: RecordsMetricFactory;
  /** The segment's alarm factory, so the alarm belongs to the segment that graphs it. */
  readonly alarms: CustomAlarmFactory;
  /** Names the alarm after the pipeline and points it at its runbook entry. */
  readonly naming: AlarmNaming;
  /** The EMF metric of records that failed. */
  readonly failedName: string;
  /** The EMF metric of records received (the batch size). */
  readonly receivedName: string;
  /** The alarm's name, which also keeps the expression's metric ids apart from the other function's. */
  readonly alarm: PipelineAlarmName;
  /** Percent of records failing, 2 of 3 five-minute periods, before the alarm fires. */
  readonly maxPercent: number;
  /** How the description goes on after "More than N% of the records". */
  readonly what: string;
}

/** The share of records a function failed, in percent, graphed and alarmed on (forwarder and sink alike). */
export function recordsFailed(props: RecordsFailedProps): { graph: SegmentGraph; alarm: AlarmWithAnnotation } {
  const metric = props.metrics.metricFailedPercent(props.failedName, props.receivedName, props.alarm);
  const alarm = alarmAbove(
    props.alarms,
    metric,
    props.alarm,
    props.naming.settings(
      props.alarm,
      `More than ${props.maxPercent}% of the records ${props.what}`,
      FIVE_MINUTES_TWO_OF_THREE,
    ),
    props.maxPercent,
  );
  return {
    graph: { title: 'Records failed (% of records)', metrics: [metric], annotations: [alarm.annotation] },
    alarm,
  };
}
