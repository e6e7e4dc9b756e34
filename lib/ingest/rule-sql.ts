/**
 * The IoT rule SQL that turns a device message into a telemetry envelope. Its TypeScript twin is
 * `contracts/enrichment.ts`; keep the two in step (the tests compare their field lists).
 */

/** 1-based index of the `+` level (the device id) in a topic filter. */
export function deviceSegment(topicFilter: string): number {
  const index = topicFilter.split('/').indexOf('+');
  if (index < 0) throw new Error(`Topic filter ${topicFilter} has no "+" level for the device id`);
  return index + 1;
}

/**
 * `SELECT ts, seq, readings, <enrichment> FROM '<filter>'` (SQL version 2016-03-23). With Basic Ingest
 * (`$aws/rules/<rule>/<topic>`) the rule sees the topic without the prefix, so `topic(n)` is the same either way.
 *
 * The device's fields are named, never `*`: with `SELECT *, topic(2) AS deviceId` a payload that carries `deviceId`
 * (or `eventId`, `receivedAt`, …) collides with the alias, and AWS documents no precedence between the two, so a
 * device could forge another device's id or an event id that suppresses someone else's reading at the sink. Named,
 * only the rule writes enrichment fields, and payload fields the envelope does not define are dropped. A device field
 * the payload lacks is Undefined, which IoT leaves out of the output (`seq` is optional).
 * Sources (AWS IoT Core Developer Guide): "SELECT clause"
 * https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-select.html; "Functions" (topic(), clientid(),
 * timestamp(), traceid(), newuuid(), sha256(), isUndefined(), cast(), concat())
 * https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html (sha256() is one of its "Hashing
 * functions", hex output); "Basic Ingest" (the rule sees the topic without `$aws/rules/<rule>/`)
 * https://docs.aws.amazon.com/iot/latest/developerguide/iot-basic-ingest.html.
 *
 * The eventId is `sha256("<deviceId>/<ts>/<seq>")` when the device sends `seq`, so retransmissions of the same
 * reading get the same id; otherwise `newuuid()`, which is stable from SQS onward but new for each publish.
 */
export function buildRuleSql(topicFilter: string): string {
  const device = `topic(${deviceSegment(topicFilter)})`;
  // The TypeScript twin's DEVICE_FIELDS; written out so that the test comparing the two can fail
  const deviceFields = ['ts', 'seq', 'readings'];
  const enrichment = [
    '1 AS schemaVersion',
    `${device} AS deviceId`,
    'clientid() AS clientId',
    'timestamp() AS receivedAt',
    'traceid() AS traceId',
    'topic() AS sourceTopic',
    `CASE isUndefined(seq) WHEN true THEN newuuid() ELSE sha256(concat(${device}, '/', cast(ts AS String), '/', cast(seq AS String))) END AS eventId`,
  ];
  return `SELECT ${[...deviceFields, ...enrichment].join(', ')} FROM '${topicFilter}'`;
}

/** The topic a given device publishes to: the filter with its `+` replaced by `device`. */
export function deviceTopic(topicFilter: string, device: string): string {
  return topicFilter
    .split('/')
    .map((level) => (level === '+' ? device : level))
    .join('/');
}

/**
 * The stack output naming the device policy at `index` (from 0): `DevicePolicyName`, then `DevicePolicyName2`, …
 * A device certificate needs every one of them; `devices provision` reads them back by this name.
 */
export function devicePolicyOutput(index: number): string {
  return index === 0 ? 'DevicePolicyName' : `DevicePolicyName${index + 1}`;
}
