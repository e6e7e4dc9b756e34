import { describe, expect, it } from 'vitest';
import { isUserError, PipelineError, UserError } from '../../contracts/errors';
import { ConfigurationError, DeadlineExceededError, KafkaAuthenticationError } from '../../lambdas/shared/errors';
import { UnsupportedSchemaError } from '../../lambdas/shared/schema-acceptor';
import { BatchNotStoredError } from '../../lambdas/sink/create-handler';
import { ConfigValidationError } from '../../lib/config/load';
import { BadRequestError, NotFoundError } from '../../ops/dashboard/api';
import { DashboardConfigurationError } from '../../ops/dashboard/server';
import { DevDependencyMissingError } from '../../ops/dev-dependency';
import {
  CredentialsExistError,
  DeviceExistsError,
  DeviceNotFoundError,
  DeviceOptionsError,
  ProvisioningError,
  RevocationError,
} from '../../ops/devices/errors';
import { LibrdkafkaMissingError } from '../../tools/kafka-mock/cluster';
import { MemoryStoreCallError } from '../../tools/local/memory-store-channel';
import { FunctionError } from '../../tools/local/worker-handler';
import { ConnectAborted } from '../../tools/simulate/connect';
import { SimulatorConfigError, SimulatorConnectionError } from '../../tools/simulate/errors';

/** Every error a user can fix: the CLI prints it as one line, `cdk synth` without a stack. */
const USER_ERRORS: readonly (readonly [string, Error])[] = [
  ['UserError', new UserError('x')],
  ['ConfigValidationError', new ConfigValidationError('Invalid configuration')],
  ['BadRequestError', new BadRequestError(['from: not a date'])],
  ['NotFoundError', new NotFoundError('no device "d"')],
  ['DashboardConfigurationError', new DashboardConfigurationError('needs an access token')],
  ['DevDependencyMissingError', new DevDependencyMissingError('esbuild is not installed')],
  ['LibrdkafkaMissingError', new LibrdkafkaMissingError('librdkafka is not installed')],
  ['DeviceOptionsError', new DeviceOptionsError(['--count: not a number'])],
  ['CredentialsExistError', new CredentialsExistError('exists')],
  ['DeviceExistsError', new DeviceExistsError('exists')],
  ['DeviceNotFoundError', new DeviceNotFoundError('gone')],
  ['ProvisioningError', new ProvisioningError('failed', 'CreateThing', [], [])],
  ['RevocationError', new RevocationError('failed', 'DetachPolicy', [])],
  ['SimulatorConfigError', new SimulatorConfigError(['--rate: not a number'])],
  ['SimulatorConnectionError', new SimulatorConnectionError('refused', 'mqtt://localhost', 'sim-1', 'ECONNREFUSED')],
];

/** Errors the project throws on purpose that are not the user's to fix: bugs, deployment state, transport. */
const OTHER_ERRORS: readonly (readonly [string, Error])[] = [
  ['PipelineError', new PipelineError('x')],
  ['ConfigurationError', new ConfigurationError('KAFKA_BROKERS: required')],
  ['KafkaAuthenticationError', new KafkaAuthenticationError('SASL rejected')],
  ['DeadlineExceededError', new DeadlineExceededError('Kafka send: not finished')],
  ['BatchNotStoredError', new BatchNotStoredError('3 records not stored')],
  ['UnsupportedSchemaError', new UnsupportedSchemaError('$.x: coercion changes the value')],
  ['ConnectAborted', new ConnectAborted('aborted')],
  // Rebuilt from what crossed a worker thread or the store channel: the thrown error's own name
  ['ConfigurationError', new FunctionError('ConfigurationError', 'KAFKA_BROKERS: required')],
  ['MongoInvalidArgumentError', new MemoryStoreCallError('MongoInvalidArgumentError', 'bad operation')],
];

describe('the error hierarchy', () => {
  it.each(USER_ERRORS)(
    'given a %s, isUserError says it is the user’s to fix, and its root is PipelineError',
    (name, error) => {
      // When it is classified, Then by its class and its own name
      expect(isUserError(error)).toBe(true);
      expect(error).toBeInstanceOf(UserError);
      expect(error).toBeInstanceOf(PipelineError);
      expect(error.name).toBe(name);
    },
  );

  it.each(OTHER_ERRORS)(
    'given a %s, isUserError says it is not the user’s to fix, and its root is PipelineError',
    (name, error) => {
      expect(isUserError(error)).toBe(false);
      expect(error).toBeInstanceOf(PipelineError);
      expect(error.name).toBe(name);
    },
  );

  it.each([
    ['a plain Error', new Error('boom')],
    ['a TypeError (a bug)', new TypeError('x is undefined')],
    ['an error shaped like a UserError but not one', Object.assign(new Error('x'), { name: 'UserError' })],
    ['a string', 'UserError: x'],
    ['undefined', undefined],
  ])('given %s, isUserError says no: only the class makes a user error', (_, thrown) => {
    expect(isUserError(thrown)).toBe(false);
  });

  it('carries the cause it was given', () => {
    // Given a driver error wrapped as a user error
    const cause = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });

    // When it is wrapped
    const error = new UserError('Cannot read the quarantine', { cause });

    // Then the cause is kept for the log and for classification along the chain
    expect(error.cause).toBe(cause);
  });
});
