/**
 * Kafka record headers the forwarder writes on every record: part of the record format anyone reading the topic
 * relies on (the sink itself reads the value; `kafka tail` shows the headers; the tests read them back).
 */
export const KafkaHeader = {
  EventId: 'event-id',
  ReceivedAt: 'received-at',
  SchemaVersion: 'schema-version',
  SourceTopic: 'source-topic',
  TraceId: 'trace-id',
  ContentType: 'content-type',
} as const;
