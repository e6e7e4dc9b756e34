/**
 * Validation of construct props, the aws-cdk-lib way: declarative rules over the props (as in aws-cdk-lib's
 * `aws-sqs/lib/validate-queue-props.ts`, run by `validateAllProps` in the `Queue` constructor), every problem
 * collected, one typed error naming the construct path, and values that are unresolved tokens left to deploy time.
 *
 * Constructors validate first, before they build anything: the props are readonly and complete at that point, and
 * aws-cdk-lib's own constructs throw on the first bad value they meet (an SQS event source's batch size, a Kafka
 * event source's missing secret), which would otherwise pre-empt the one report that lists every problem.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { UserError } from '../../contracts/errors';
import { KAFKA_TOPIC_MAX_LENGTH, KAFKA_TOPIC_PATTERN } from '../../contracts/limits';

/**
 * Props that break a construct's rules: every problem, each as `<prop>: <what is wrong>`, with the path of the
 * construct they were given to. Classify it by `name` (`ConstructValidationError`).
 */
export class ConstructValidationError extends UserError {
  public override readonly name = 'ConstructValidationError';

  public constructor(
    /** Path of the construct in the construct tree (`Stack/Sink`). */
    public readonly constructPath: string,
    /** The construct's class name (`MongoSink`). */
    public readonly construct: string,
    /** Every problem found, each `<prop>: <what is wrong>`. */
    public readonly problems: readonly string[],
  ) {
    super(`${constructPath}: invalid ${construct} props:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * One rule over a construct's props: the problems it finds, none when the props keep it. `scope` is the construct
 * being validated, for rules that depend on where it is (its stack's region, say).
 */
export type ValidationRule<P> = (props: P, scope: IConstruct) => readonly string[];

/** Runs every rule and throws one `ConstructValidationError` with all their problems, or returns when none has any. */
export function validateProps<P>(
  scope: IConstruct,
  construct: string,
  props: P,
  rules: readonly ValidationRule<P>[],
): void {
  throwIfInvalid(
    scope,
    construct,
    rules.flatMap((rule) => rule(props, scope)),
  );
}

/** Throws one `ConstructValidationError` naming the construct path and every problem, or returns when there are none. */
export function throwIfInvalid(scope: IConstruct, construct: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new ConstructValidationError(scope.node.path, construct, problems);
}

/** Whether `value` is known at synth time: set, and not a token CloudFormation resolves at deploy time. */
export function isResolved<T>(value: T | undefined): value is T {
  return value !== undefined && !Token.isUnresolved(value);
}

/**
 * A duration's seconds when known at synth time (`undefined` when unset or a token), fractions kept: 500 ms is 0.5,
 * for a rule to report, where `toSeconds()` would throw.
 */
export function knownSeconds(duration: Duration | undefined): number | undefined {
  return duration === undefined || duration.isUnresolved() ? undefined : duration.toSeconds({ integral: false });
}

/**
 * A rule that `prop` is known at synth time, for a value the construct computes with (a name it derives, a size it
 * measures): a token there cannot be left to CloudFormation, so it is a problem, and `because` says why.
 */
export function knownAtSynth<P>(prop: string, value: (props: P) => unknown, because: string): ValidationRule<P> {
  return (props) => {
    const actual = value(props);
    const unresolved = actual instanceof Duration ? actual.isUnresolved() : Token.isUnresolved(actual);
    return unresolved ? [`${prop}: must be known at synth time (${because})`] : [];
  };
}

/**
 * A rule that `prop`'s value (read by `value`, defaults applied) lies in `min`–`max`; an unset value or a token
 * passes. `unit` follows the value in the message (`10 s is outside 60–604800`).
 */
export function inRange<P>(
  prop: string,
  value: (props: P) => number | undefined,
  min: number,
  max: number,
  unit = '',
): ValidationRule<P> {
  return (props) => {
    const actual = value(props);
    if (!isResolved(actual) || (actual >= min && actual <= max)) return [];
    return [`${prop}: ${actual}${unit ? ` ${unit}` : ''} is outside ${min}–${max}`];
  };
}

/** Whether Lambda accepts `name` as a Kafka topic (see `KAFKA_TOPIC_PATTERN`). */
export function isLambdaKafkaTopic(name: string): boolean {
  return name.length <= KAFKA_TOPIC_MAX_LENGTH && KAFKA_TOPIC_PATTERN.test(name);
}

/** A rule that `prop` (read by `topic`) is a topic name Lambda accepts; a token passes. */
export function kafkaTopic<P>(prop: string, topic: (props: P) => string): ValidationRule<P> {
  return (props) => {
    const name = topic(props);
    return isResolved(name) && !isLambdaKafkaTopic(name)
      ? [`${prop}: "${name}" is not a topic name Lambda accepts`]
      : [];
  };
}

/** Kafka connection props shared by every construct that talks to the topic. */
export interface KafkaConnectionProps {
  /** Kafka bootstrap servers, `host:port`. */
  readonly bootstrapServers: readonly string[];
  /** The topic the pipeline's readings travel on. */
  readonly topic: string;
}

/**
 * Rules for the Kafka connection props: at least one bootstrap server, each `host:port`, and a topic Lambda
 * accepts. A list token (its length unknown before deploy) and a server or topic that is a token pass.
 */
export const KAFKA_CONNECTION_RULES: readonly ValidationRule<KafkaConnectionProps>[] = [
  ({ bootstrapServers }) => {
    if (Token.isUnresolved(bootstrapServers)) return [];
    if (bootstrapServers.length === 0) return ['bootstrapServers: at least one host:port is required'];
    return bootstrapServers
      .filter((server) => isResolved(server) && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(server))
      .map((server) => `bootstrapServers: "${server}" is not host:port`);
  },
  kafkaTopic('topic', (props) => props.topic),
];
