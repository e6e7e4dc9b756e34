/** Kafka record headers the forwarder writes on every record, read back by the sink, the CLI and the local tools. */
export const KafkaHeader = {
  EventId: 'event-id',
  ReceivedAt: 'received-at',
  SchemaVersion: 'schema-version',
  SourceTopic: 'source-topic',
  TraceId: 'trace-id',
  ContentType: 'content-type',
} as const;
