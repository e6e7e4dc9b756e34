import type { Construct } from 'constructs';

/** Throws one error naming the construct path and every problem, or returns when there are none. */
export function throwIfInvalid(scope: Construct, kind: string, problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new Error(`${scope.node.path}: invalid ${kind} props:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * A topic name Lambda accepts for a Kafka event source and its `kafka://` on-failure destination: AWS Lambda API
 * Reference, CreateEventSourceMapping → Topics, 1–249 characters, pattern `^[^.]([a-zA-Z0-9\-_.]+)`
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html#lambda-CreateEventSourceMapping-request-Topics),
 * applied to the whole name.
 */
export const KAFKA_TOPIC_PATTERN = /^[^.][a-zA-Z0-9\-_.]+$/;
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
