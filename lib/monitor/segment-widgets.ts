import type { HorizontalAnnotation, IMetric, IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { Row, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import {
  createGraphWidget,
  DefaultGraphWidgetHeight,
  FullWidth,
  GraphWidgetType,
  MonitoringHeaderWidget,
  recommendedWidgetWidth,
} from 'cdk-monitoring-constructs';

/** One graph of a segment's row. */
export interface SegmentGraph {
  /** Shown above the graph. */
  readonly title: string;
  /** The lines (or bars) on the graph, on its left axis. */
  readonly metrics: readonly IMetric[];
  /** Threshold lines of the alarms on these metrics. @default none */
  readonly annotations?: readonly HorizontalAnnotation[];
  /** How the graph draws its metrics. @default GraphWidgetType.LINE */
  readonly type?: GraphWidgetType;
  /** Width in dashboard columns (of 24). @default as wide as the row's graph count allows */
  readonly width?: number;
}

/**
 * A segment's widgets, laid out as cdk-monitoring-constructs' `CustomMonitoring` lays out its metric groups: a
 * header row with the title, an optional description row, then one row with a graph per entry, sized to share it.
 */
export function segmentWidgets(title: string, graphs: readonly SegmentGraph[], description?: string): IWidget[] {
  const rows = [new Row(new MonitoringHeaderWidget({ title }))];
  if (description) rows.push(new Row(new TextWidget({ markdown: description, width: FullWidth, height: 1 })));
  rows.push(
    new Row(
      ...graphs.map((graph) =>
        createGraphWidget(graph.type ?? GraphWidgetType.LINE, {
          title: graph.title,
          width: graph.width ?? recommendedWidgetWidth(graphs.length),
          height: DefaultGraphWidgetHeight,
          left: [...graph.metrics],
          right: [],
          leftAnnotations: [...(graph.annotations ?? [])],
          rightAnnotations: [],
          verticalAnnotations: [],
        }),
      ),
    ),
  );
  return rows;
}
