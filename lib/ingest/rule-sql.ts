/**
 * The IoT rule SQL that turns a device message into a telemetry envelope. Its TypeScript twin is
 * `lambdas/shared/enrichment.ts`; keep the two in step (the tests compare their field lists).
 */

/** 1-based index of the `+` level (the device id) in a topic filter. */
export function deviceSegment(topicFilter: string): number {
  const index = topicFilter.split('/').indexOf('+');
  if (index < 0) throw new Error(`Topic filter ${topicFilter} has no "+" level for the device id`);
  return index + 1;
}

/**
 * `SELECT *, <enrichment> FROM '<filter>'` (SQL version 2016-03-23). With Basic Ingest
 * (`$aws/rules/<rule>/<topic>`) the rule sees the topic without the prefix, so `topic(n)` is the same either way.
 *
 * The eventId is `sha256("<deviceId>/<ts>/<seq>")` when the device sends `seq`, so retransmissions of the same
 * reading get the same id; otherwise `newuuid()`, which is stable from SQS onward but new for each publish.
 */
export function buildRuleSql(topicFilter: string): string {
  const device = `topic(${deviceSegment(topicFilter)})`;
  const enrichment = [
    '1 AS schemaVersion',
    `${device} AS deviceId`,
    'clientid() AS clientId',
    'timestamp() AS receivedAt',
    'traceid() AS traceId',
    'topic() AS sourceTopic',
    `CASE isUndefined(seq) WHEN true THEN newuuid() ELSE sha256(concat(${device}, '/', cast(ts AS String), '/', cast(seq AS String))) END AS eventId`,
  ];
  return `SELECT *, ${enrichment.join(', ')} FROM '${topicFilter}'`;
}

/** The topic a given device publishes to: the filter with its `+` replaced by `device`. */
export function deviceTopic(topicFilter: string, device: string): string {
  return topicFilter
    .split('/')
    .map((level) => (level === '+' ? device : level))
    .join('/');
}
