import type { KafkaConfig, LogEntry, logCreator, RetryOptions } from 'kafkajs';
import { logLevel } from 'kafkajs';
import { failureDetail } from '../../../contracts/failure';
import { boundedFields, type LogFields, type LoggerPort } from '../observability';
import type { KafkaCredentials } from './credentials';

/** Where and how to reach Kafka. */
export interface KafkaSettings {
  readonly clientId: string;
  readonly brokers: readonly string[];
  /** TLS to the brokers. Confluent Cloud requires it; local brokers usually do not offer it. */
  readonly ssl: boolean;
  /** Secrets Manager id (ARN or name) of the SASL/PLAIN credentials; absent for local, unauthenticated brokers. */
  readonly credentialsSecretId?: string;
}

/** kafkajs time budgets, derived from the time a Lambda invocation has. */
export interface KafkaBudget {
  readonly connectionTimeout: number;
  readonly authenticationTimeout: number;
  readonly requestTimeout: number;
  readonly retry: Required<
    Pick<RetryOptions, 'initialRetryTime' | 'maxRetryTime' | 'retries' | 'factor' | 'multiplier'>
  >;
}

const clamp = (value: number, min: number, max: number) => Math.round(Math.min(max, Math.max(min, value)));

/**
 * Budgets that fit inside `remainingMs`: connecting (TCP + TLS + SASL, slow on Confluent Cloud, hence the explicit
 * and generous floor) takes at most 15% of it, one request at most 25%, and all of kafkajs' retry back-offs together
 * at most 40%. The caller still races every operation against its deadline; these budgets make kafkajs give up on
 * its own well before that, so the last attempt's error is the one reported.
 */
export function deriveKafkaBudget(remainingMs: number): KafkaBudget {
  const connectionTimeout = clamp(remainingMs * 0.15, 1_000, 10_000);
  const requestTimeout = clamp(remainingMs * 0.25, 1_000, 30_000);
  const initialRetryTime = 100;
  const multiplier = 2;
  const maxRetryTime = clamp(remainingMs * 0.1, 200, 5_000);
  const backoffBudget = remainingMs * 0.4;
  let retries = 0;
  let total = 0;
  for (let wait = initialRetryTime; retries < 10; wait = Math.min(wait * multiplier, maxRetryTime)) {
    if (total + wait > backoffBudget) break;
    total += wait;
    retries++;
  }
  return {
    connectionTimeout,
    authenticationTimeout: connectionTimeout,
    requestTimeout,
    retry: { initialRetryTime, maxRetryTime, retries, factor: 0.2, multiplier },
  };
}

/** The minimal logger kafkajs' log lines are routed to (Powertools Logger fits). */
export type KafkaLogSink = Pick<LoggerPort, 'warn' | 'error'>;

/**
 * Keys Powertools Logger keeps for itself: an attribute with one of these names is dropped with a warning line of its
 * own (`The key "timestamp" is a reserved key and will be dropped`), one per kafkajs line.
 */
const POWERTOOLS_RESERVED_KEYS = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

/**
 * kafkajs' log fields as attributes Powertools takes as they are: its `timestamp` is dropped (Powertools stamps every
 * line), another reserved name gets a `kafkajs_` prefix, and strings (broker error messages) are cut as
 * `failure.error` is.
 */
export function kafkaLogFields(log: LogEntry['log']): LogFields {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(log)) {
    if (key === 'message' || key === 'timestamp') continue;
    fields[POWERTOOLS_RESERVED_KEYS.has(key) ? `kafkajs_${key}` : key] =
      typeof value === 'string' ? failureDetail(value) : value;
  }
  return boundedFields(fields as LogFields);
}

/** Routes kafkajs' WARN and ERROR lines to our structured logger; kafkajs never logs credentials. */
export function kafkaLogCreator(sink: KafkaLogSink): logCreator {
  return () =>
    ({ level, log }: LogEntry) => {
      const message = `kafkajs: ${failureDetail(String(log.message))}`;
      if (level === logLevel.ERROR) sink.error(message, kafkaLogFields(log));
      else if (level === logLevel.WARN) sink.warn(message, kafkaLogFields(log));
    };
}

/** kafkajs client configuration: SASL_SSL/PLAIN when credentials are given, plaintext without. */
export function buildKafkaConfig(
  settings: KafkaSettings,
  credentials: KafkaCredentials | undefined,
  budget: KafkaBudget,
  logSink: KafkaLogSink,
): KafkaConfig {
  return {
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    ssl: settings.ssl,
    ...(credentials
      ? { sasl: { mechanism: 'plain' as const, username: credentials.username, password: credentials.password } }
      : {}),
    connectionTimeout: budget.connectionTimeout,
    authenticationTimeout: budget.authenticationTimeout,
    requestTimeout: budget.requestTimeout,
    enforceRequestTimeout: true,
    retry: budget.retry,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logSink),
  };
}
