/**
 * Reads CloudWatch dashboards and alarms out of a synthesized template: the dashboard body (an `Fn::Join` of JSON
 * and tokens) becomes plain JSON with each token replaced by a placeholder, and every metric a widget or an alarm
 * uses (plain metrics, SEARCH expressions, Metrics Insights queries) becomes one `MetricRef`.
 */
import type { Template } from 'aws-cdk-lib/assertions';

/** A metric as CloudWatch identifies it. A dimension whose value a SEARCH leaves open is `*`. */
export interface MetricRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Where it was found, for failure messages. */
  readonly source: string;
}

export interface Widget {
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: Record<string, unknown> & { readonly title?: string; readonly markdown?: string };
}

/** `{{Ref:Id}}` for a Ref, `{{GetAtt:Id.Attr}}` for a GetAtt; a string stays as it is. */
export function placeholder(value: unknown): string {
  if (typeof value === 'string') return value;
  const token = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (token.Ref) return `{{Ref:${token.Ref}}}`;
  if (token['Fn::GetAtt']) return `{{GetAtt:${token['Fn::GetAtt'][0]}.${token['Fn::GetAtt'][1]}}}`;
  throw new Error(`unexpected token ${JSON.stringify(value)}`);
}

/** The dashboard body with every token replaced by its placeholder, parsed. */
export function dashboardWidgets(body: unknown): Widget[] {
  const join = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const text = join ? join[1].map(placeholder).join(join[0]) : String(body);
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

/** Widgets in reading order: top to bottom, then left to right. */
export function inReadingOrder(widgets: readonly Widget[]): Widget[] {
  return [...widgets].sort((a, b) => a.y - b.y || a.x - b.x);
}

/** The widget's metrics: plain ones, and those named by a SEARCH or Metrics Insights expression. */
export function widgetMetrics(widget: Widget): MetricRef[] {
  const source = `widget "${widget.properties.title ?? widget.type}"`;
  const entries = (widget.properties.metrics ?? []) as unknown[][];
  return entries.flatMap((entry) => {
    const head = entry[0];
    if (typeof head === 'object' && head !== null && 'expression' in head) {
      return expressionMetrics(String((head as { expression: string }).expression), source);
    }
    const parts = entry.filter((part) => typeof part === 'string') as string[];
    const [namespace, metricName, ...dims] = parts;
    if (!namespace || !metricName) throw new Error(`${source}: cannot read metric ${JSON.stringify(entry)}`);
    const dimensions: Record<string, string> = {};
    for (let i = 0; i + 1 < dims.length; i += 2) dimensions[dims[i] as string] = dims[i + 1] as string;
    return [{ namespace, metricName, dimensions, source }];
  });
}

interface AlarmMetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
}

/** The metrics an `AWS::CloudWatch::Alarm` evaluates, whichever form it takes. */
export function alarmMetrics(alarm: Record<string, unknown>): MetricRef[] {
  const source = `alarm ${String(alarm.AlarmName)}`;
  const dims = (list: { Name: string; Value: unknown }[] = []) =>
    Object.fromEntries(list.map(({ Name, Value }) => [Name, placeholder(Value)]));
  if (alarm.MetricName) {
    return [
      {
        namespace: String(alarm.Namespace),
        metricName: String(alarm.MetricName),
        dimensions: dims(alarm.Dimensions as { Name: string; Value: unknown }[]),
        source,
      },
    ];
  }
  const queries = (alarm.Metrics ?? []) as { Expression?: string; MetricStat?: AlarmMetricStat }[];
  return queries.flatMap((query) => {
    if (query.MetricStat) {
      const { Namespace, MetricName, Dimensions } = query.MetricStat.Metric;
      return [{ namespace: Namespace, metricName: MetricName, dimensions: dims(Dimensions), source }];
    }
    return query.Expression ? expressionMetrics(query.Expression, source) : [];
  });
}

/**
 * Metrics an expression selects itself. Metric math (`a + b`, `IF(…)`) names none: its inputs are listed
 * separately. SEARCH('{Namespace,Key,…} MetricName="M" Key="v"', …) and
 * SELECT FN(M) FROM SCHEMA("Namespace", Key, …) WHERE Key = 'v' name one each.
 */
export function expressionMetrics(expression: string, source: string): MetricRef[] {
  const search = /^SEARCH\('\{([^}]*)\}\s*(.*)',\s*'\w+',\s*\d+\)$/.exec(expression);
  if (search) {
    const [namespace = '', ...keys] = (search[1] ?? '').split(',').map((part) => part.trim().replace(/^"|"$/g, ''));
    const terms = Object.fromEntries(
      [...(search[2] ?? '').matchAll(/"?(\w+)"?="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    const { MetricName: metricName, ...values } = terms;
    if (!metricName) throw new Error(`${source}: SEARCH without MetricName: ${expression}`);
    for (const key of Object.keys(values)) {
      if (!keys.includes(key)) throw new Error(`${source}: SEARCH filters on ${key} outside its schema: ${expression}`);
    }
    return [{ namespace, metricName, dimensions: Object.fromEntries(keys.map((k) => [k, values[k] ?? '*'])), source }];
  }
  const select = /^SELECT \w+\((\w+)\) FROM SCHEMA\("([^"]+)"((?:,\s*\w+)*)\)(?: WHERE (.*))?$/.exec(expression);
  if (select) {
    const keys = (select[3] ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean);
    const values = Object.fromEntries(
      [...(select[4] ?? '').matchAll(/(\w+) = '([^']*)'/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    return [
      {
        namespace: select[2] as string,
        metricName: select[1] as string,
        dimensions: Object.fromEntries(keys.map((k) => [k, values[k] ?? '*'])),
        source,
      },
    ];
  }
  if (/SEARCH|SELECT/.test(expression)) throw new Error(`${source}: cannot read expression ${expression}`);
  return [];
}

/** The single dashboard of a template. */
export function onlyDashboard(template: Template): { id: string; name: unknown; widgets: Widget[] } {
  const dashboards = Object.entries(template.findResources('AWS::CloudWatch::Dashboard'));
  if (dashboards.length !== 1) throw new Error(`expected one dashboard, found ${dashboards.length}`);
  const [[id, resource]] = dashboards as [[string, { Properties: { DashboardName: unknown; DashboardBody: unknown } }]];
  return { id, name: resource.Properties.DashboardName, widgets: dashboardWidgets(resource.Properties.DashboardBody) };
}
