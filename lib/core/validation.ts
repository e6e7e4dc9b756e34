import type { Construct } from 'constructs';

/** Throws one error naming the construct path and every problem, or returns when there are none. */
export function throwIfInvalid(scope: Construct, kind: string, problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new Error(`${scope.node.path}: invalid ${kind} props:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Problems with Kafka connection props shared by every construct that talks to the topic. */
export function kafkaProblems(props: { bootstrapServers: readonly string[]; topic: string }): string[] {
  const problems: string[] = [];
  if (props.bootstrapServers.length === 0) problems.push('bootstrapServers: at least one host:port is required');
  for (const server of props.bootstrapServers) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(server)) problems.push(`bootstrapServers: "${server}" is not host:port`);
  }
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(props.topic))
    problems.push(`topic: "${props.topic}" is not a valid Kafka topic name`);
  return problems;
}
