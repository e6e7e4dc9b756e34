import type { Construct } from 'constructs';

/** Throws one error naming the construct path and every problem, or returns when there are none. */
export function throwIfInvalid(scope: Construct, kind: string, problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new Error(`${scope.node.path}: invalid ${kind} props:\n  - ${problems.join('\n  - ')}`);
  }
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
export const KAFKA_TOPIC_MAX_LENGTH = 249;

/** Whether Lambda accepts `name` as a Kafka topic (see `KAFKA_TOPIC_PATTERN`). */
export function isLambdaKafkaTopic(name: string): boolean {
  return name.length <= KAFKA_TOPIC_MAX_LENGTH && KAFKA_TOPIC_PATTERN.test(name);
}

/** Problems with Kafka connection props shared by every construct that talks to the topic. */
export function kafkaProblems(props: { bootstrapServers: readonly string[]; topic: string }): string[] {
  const problems: string[] = [];
  if (props.bootstrapServers.length === 0) problems.push('bootstrapServers: at least one host:port is required');
  for (const server of props.bootstrapServers) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(server)) problems.push(`bootstrapServers: "${server}" is not host:port`);
  }
  if (!isLambdaKafkaTopic(props.topic)) problems.push(`topic: "${props.topic}" is not a topic name Lambda accepts`);
  return problems;
}
