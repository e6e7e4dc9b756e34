/**
 * Limits every side applies the same way: the envelope size the functions accept, and Amazon SQS's rules, which
 * the forwarder's dead-letter sends, the CLI's redrives, the stack's ingest queue and the loopback SQS endpoint of
 * `telemetry-ops local` all obey.
 */

/** Default upper bound of an envelope's UTF-8 size; configurable per deployment (`limits.maxMessageBytes`). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16_384;

/**
 * SendMessageBatch: at most 10 entries and 1 MiB of bodies and attributes per call. "The maximum allowed individual
 * message size and the maximum total payload size (the sum of the individual lengths of all of the batched
 * messages) are both 1 MiB 1,048,576 bytes." (Amazon SQS API Reference, SendMessageBatch,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html; SendMessage: "The
 * maximum size is 1 MiB or 1,048,576 bytes".) Queues keep the default MaximumMessageSize (1 MiB).
 */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** The largest message SQS takes (body plus attributes). */
export const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;
export const SQS_MAX_BATCH_BYTES = 1024 * 1024;

/** Characters SQS accepts in message bodies and attribute values: #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD, astral. */
export const SQS_UNSAFE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * The longest visibility timeout SQS accepts: 12 hours ("Values values: 0 to 43200. Maximum: 12 hours", Amazon SQS
 * API Reference, ChangeMessageVisibility,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html).
 */
export const SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

/**
 * The visibility timeout of a queue a Lambda function consumes: six times the function's timeout plus the event
 * source's batching window, so a batch retried after a throttle never overlaps one still running ("set the source
 * queue's visibility timeout to at least six times the configuration timeout on your function", AWS Lambda
 * Developer Guide, "Creating and configuring an Amazon SQS event source mapping",
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
export function consumerVisibilityTimeoutSeconds(functionTimeoutSeconds: number, batchingWindowSeconds = 0): number {
  return functionTimeoutSeconds * 6 + batchingWindowSeconds;
}

/**
 * A topic name both Lambda and Kafka accept, for the Kafka event source and its `kafka://` on-failure destination.
 * Lambda: AWS Lambda API Reference, CreateEventSourceMapping → Topics, 1–249 characters, pattern
 * `^[^.]([a-zA-Z0-9\-_.]+)`
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html#lambda-CreateEventSourceMapping-request-Topics):
 * its first character is only "not a dot", so it lets through `#`, a space or `/`, which Kafka refuses. Kafka: legal
 * characters are ASCII letters, digits, `.`, `_` and `-` (Apache Kafka, `org.apache.kafka.common.internals.Topic`,
 * `validate`: "contains a character other than ASCII alphanumerics, '.', '_' and '-'"). Both rules together, applied
 * to the whole name: a first character from Kafka's set other than `.`, then at least one more from Kafka's set.
 */
export const KAFKA_TOPIC_PATTERN = /^[a-zA-Z0-9_-][a-zA-Z0-9._-]+$/;
/** The longest Kafka topic name Lambda's event source mapping (and Kafka) accepts. */
export const KAFKA_TOPIC_MAX_LENGTH = 249;

/**
 * The largest PUBLISH payload IoT Core's message broker accepts: "If a message size limit exceeds the service quotas,
 * it will result in a CLIENT_ERROR with reason PAYLOAD_LIMIT_EXCEEDED" (MQTT message payload - AWS IoT Core,
 * https://docs.aws.amazon.com/iot/latest/developerguide/topicdata.html; 128 KB in AWS IoT Core message broker
 * limits and quotas, https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits). A larger
 * payload never reaches a rule: the config schema caps `limits.maxMessageBytes` at it and `local` refuses larger
 * publishes at ingress.
 */
export const IOT_MAX_PAYLOAD_BYTES = 128 * 1024;
