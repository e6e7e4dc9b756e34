import { App, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  ConstructValidationError,
  inRange,
  KAFKA_CONNECTION_RULES,
  type KafkaConnectionProps,
  kafkaTopic,
  knownAtSynth,
  knownSeconds,
  validateProps,
} from '../../../lib/core/validation';

const scope = () => new Stack(new App(), 'S');
const numberToken = () => Lazy.number({ produce: () => 0 });
const stringToken = () => Lazy.string({ produce: () => 'bad topic' });

/** What `validateProps` throws for `props` under `rules`, or undefined when it returns. */
function thrown<P>(props: P, rules: Parameters<typeof validateProps<P>>[3]): ConstructValidationError | undefined {
  try {
    validateProps(scope(), 'Widget', props, rules);
    return undefined;
  } catch (error) {
    if (error instanceof ConstructValidationError) return error;
    throw error;
  }
}

describe('validateProps', () => {
  it('throws one ConstructValidationError with the construct path and every rule’s problems, in rule order', () => {
    // Given two rules that each find problems and one that finds none
    const rules = [() => ['a: first'], () => [], () => ['b: second', 'c: third']];
    // When the props are validated
    const error = thrown({}, rules);
    // Then one typed error lists all of them, under the construct path
    expect(error).toBeInstanceOf(ConstructValidationError);
    expect(error?.name).toBe('ConstructValidationError');
    expect(error?.constructPath).toBe('S');
    expect(error?.construct).toBe('Widget');
    expect(error?.problems).toEqual(['a: first', 'b: second', 'c: third']);
    expect(error?.message).toBe('S: invalid Widget props:\n  - a: first\n  - b: second\n  - c: third');
  });

  it('returns when no rule finds a problem', () => {
    expect(thrown({}, [() => [], () => []])).toBeUndefined();
  });

  it('hands each rule the construct being validated', () => {
    const stack = scope();
    const seen: unknown[] = [];
    const rule = (_: unknown, construct: unknown) => {
      seen.push(construct);
      return [];
    };
    validateProps(stack, 'Widget', {}, [rule]);
    expect(seen).toEqual([stack]);
  });
});

describe('inRange', () => {
  const rule = inRange<{ n?: number }>('n', (props) => props.n, 1, 10);
  it.each([
    ['below the range', 0, ['n: 0 is outside 1–10']],
    ['above the range', 11, ['n: 11 is outside 1–10']],
    ['at the lower bound', 1, []],
    ['at the upper bound', 10, []],
    ['unset', undefined, []],
    ['a token', numberToken(), []],
  ])('for a value %s', (_, n, problems) => {
    expect(rule({ n }, scope())).toEqual(problems);
  });

  it('names the unit after the value', () => {
    expect(inRange<number>('age', (n) => n, 60, 120, 's')(10, scope())).toEqual(['age: 10 s is outside 60–120']);
  });
});

describe('knownAtSynth', () => {
  const rule = knownAtSynth<{ v: unknown }>('v', (props) => props.v, 'it is measured');
  it.each([
    ['a string token', stringToken(), ['v: must be known at synth time (it is measured)']],
    [
      'a list token',
      Token.asList(Lazy.any({ produce: () => [] })),
      ['v: must be known at synth time (it is measured)'],
    ],
    ['a duration token', Duration.seconds(numberToken()), ['v: must be known at synth time (it is measured)']],
    ['a number token', numberToken(), ['v: must be known at synth time (it is measured)']],
    ['a literal string', 'sensors/+/readings', []],
    ['a list holding a token', [stringToken()], []],
    ['a literal duration', Duration.seconds(30), []],
    ['unset', undefined, []],
  ])('for %s', (_, v, problems) => {
    expect(rule({ v }, scope())).toEqual(problems);
  });
});

describe('knownSeconds', () => {
  it.each([
    ['a whole number of seconds', Duration.minutes(2), 120],
    ['a fraction of a second, which toSeconds() would refuse', Duration.millis(500), 0.5],
    ['unset', undefined, undefined],
    ['a token', Duration.seconds(numberToken()), undefined],
  ])('of %s', (_, duration, seconds) => {
    expect(knownSeconds(duration)).toBe(seconds);
  });
});

describe('Kafka connection rules', () => {
  const problems = (props: KafkaConnectionProps) =>
    thrown(props, KAFKA_CONNECTION_RULES)?.problems ?? ([] as readonly string[]);
  const topic = 'telemetry.readings.v1';

  it.each<[string, KafkaConnectionProps, readonly string[]]>([
    ['no bootstrap server', { bootstrapServers: [], topic }, ['bootstrapServers: at least one host:port is required']],
    [
      'servers without a port',
      { bootstrapServers: ['broker:9092', 'nohost', 'b:x'], topic },
      ['bootstrapServers: "nohost" is not host:port', 'bootstrapServers: "b:x" is not host:port'],
    ],
    [
      'a topic Lambda refuses (Kafka has no "#")',
      { bootstrapServers: ['b:9092'], topic: 'readings#1' },
      ['topic: "readings#1" is not a topic name Lambda accepts'],
    ],
    [
      'a topic starting with a dot',
      { bootstrapServers: ['b:9092'], topic: '.readings' },
      ['topic: ".readings" is not a topic name Lambda accepts'],
    ],
    [
      'a bad server and a bad topic together',
      { bootstrapServers: ['nohost'], topic: 'bad topic' },
      ['bootstrapServers: "nohost" is not host:port', 'topic: "bad topic" is not a topic name Lambda accepts'],
    ],
    ['a good connection', { bootstrapServers: ['pkc-1.eu-west-1.aws.confluent.cloud:9092'], topic }, []],
    ['a list token for the servers', { bootstrapServers: Token.asList(Lazy.any({ produce: () => [] })), topic }, []],
    ['a token server and a token topic', { bootstrapServers: [stringToken()], topic: stringToken() }, []],
  ])('for %s', (_, props, expected) => {
    expect(problems(props)).toEqual(expected);
  });

  it('checks a topic at the longest length Lambda accepts, and refuses one longer', () => {
    const rule = kafkaTopic<string>('topic', (name) => name);
    expect(rule('t'.repeat(249), scope())).toEqual([]);
    expect(rule('t'.repeat(250), scope())).toEqual([`topic: "${'t'.repeat(250)}" is not a topic name Lambda accepts`]);
  });
});
