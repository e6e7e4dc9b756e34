/**
 * What a command needs to reach the deployed pipeline, resolved lazily and once: the same configuration file as
 * the stack (`config/<env>.json`), the stack's outputs (queue URLs, secret ARNs), AWS clients for the configured
 * region, and Kafka and MongoDB clients. Local brokers can be named through the environment instead:
 *
 * - `KAFKA_BROKERS` (comma-separated host:port): use these brokers instead of `kafka.bootstrapServers`;
 *   plaintext unless `KAFKA_SSL=true`, SASL/PLAIN only when `KAFKA_USERNAME` and `KAFKA_PASSWORD` are set.
 * - `MONGODB_URI`: use this server instead of the URI secret.
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient, MongoError } from 'mongodb';
import { envBrokers } from '../contracts/environment';
import { isUserError, UserError } from '../contracts/errors';
import type { QuarantineDocument, ReadingDocument } from '../lambdas/sink/documents';
import { COLLECTIONS } from '../lambdas/sink/mongo/collections';
import { loadConfig } from '../lib/config/load';
import type { PipelineConfig } from '../lib/config/schema';
import { aws } from './aws-errors';
import type { ReadableDb } from './dashboard/readable-db';
import type { QuarantineCollection } from './failures/stores';
import { type KafkaTarget, kafkaTarget } from './kafka/connection';
import { quietSdkNodeWarning, SDK_NODE_WARNING_SWITCH, sdkNodeNote } from './node-support';
import type { Output } from './output';

export interface ContextOptions {
  /** Configuration environment: `config/<env>.json`. */
  readonly env: string;
  /** AWS region; defaults to the configuration's, then AWS_REGION / AWS_DEFAULT_REGION. */
  readonly region?: string;
  /** Where the configuration files are. @default the repository's `config/` */
  readonly configDir?: string;
}

/** AWS clients a caller (a test) may supply instead of the ones built for the region. */
export interface AwsClients {
  readonly sqs?: SQSClient;
  readonly cloudFormation?: CloudFormationClient;
  readonly cloudWatch?: CloudWatchClient;
  readonly iot?: IoTClient;
  readonly secretsManager?: SecretsManagerClient;
  readonly lambda?: LambdaClient;
  /** The IoT data plane client, instead of one built for the account's data endpoint. */
  readonly iotData?: IoTDataPlaneClient;
  /** The quarantine collection, instead of connecting to MongoDB. */
  readonly quarantine?: QuarantineCollection;
  /** The readings collection, instead of connecting to MongoDB. */
  readonly readings?: ReadingsCollection;
  /** The database the dashboard reads, instead of connecting to MongoDB. */
  readonly readableDb?: ReadableDb;
}

/** What the CLI reads from the sink's readings collection. */
export interface ReadingsCollection {
  findById(eventId: string): Promise<ReadingDocument | null>;
}

/**
 * Runs a MongoDB operation; the driver's errors (denied, unreachable, failover: every one extends `MongoError`)
 * become one line.
 */
async function mongoCall<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof MongoError)
      throw new UserError(`Cannot ${what}: MongoDB ${error.name}: ${error.message}`, { cause: error });
    throw error;
  }
}

export class OpsContext {
  private loadedConfig?: PipelineConfig;
  private outputs?: Promise<Readonly<Record<string, string>>>;
  private kafkaClient?: Promise<Kafka>;
  private mongoClient?: Promise<MongoClient>;
  private readonly built: {
    sqs?: SQSClient;
    cloudFormation?: CloudFormationClient;
    cloudWatch?: CloudWatchClient;
    iot?: IoTClient;
    iotData?: IoTDataPlaneClient;
    lambda?: LambdaClient;
    secretsManager?: SecretsManagerClient;
  } = {};

  public constructor(
    public readonly options: ContextOptions,
    public readonly out: Output,
    public readonly environment: NodeJS.ProcessEnv = process.env,
    private readonly clients: AwsClients = {},
  ) {}

  /** The validated configuration of `--env`. */
  public get config(): PipelineConfig {
    this.loadedConfig ??= loadConfig(this.options.env, this.options.configDir);
    return this.loadedConfig;
  }

  public get region(): string {
    const region =
      this.options.region ?? this.config.region ?? this.environment.AWS_REGION ?? this.environment.AWS_DEFAULT_REGION;
    if (!region)
      throw new UserError('No AWS region: pass --region, set AWS_REGION, or set "region" in the configuration');
    return region;
  }

  public sqs(): SQSClient {
    this.built.sqs ??= this.clients.sqs ?? this.sdkClient((config) => new SQSClient(config));
    return this.built.sqs;
  }

  public cloudFormation(): CloudFormationClient {
    this.built.cloudFormation ??=
      this.clients.cloudFormation ?? this.sdkClient((config) => new CloudFormationClient(config));
    return this.built.cloudFormation;
  }

  public cloudWatch(): CloudWatchClient {
    this.built.cloudWatch ??= this.clients.cloudWatch ?? this.sdkClient((config) => new CloudWatchClient(config));
    return this.built.cloudWatch;
  }

  public iot(): IoTClient {
    this.built.iot ??= this.clients.iot ?? this.sdkClient((config) => new IoTClient(config));
    return this.built.iot;
  }

  public lambda(): LambdaClient {
    this.built.lambda ??= this.clients.lambda ?? this.sdkClient((config) => new LambdaClient(config));
    return this.built.lambda;
  }

  /** The IoT data plane client for the account's data endpoint (`https://<DescribeEndpoint iot:Data-ATS>`). */
  public iotData(endpoint: string): IoTDataPlaneClient {
    this.built.iotData ??=
      this.clients.iotData ?? this.sdkClient((config) => new IoTDataPlaneClient({ ...config, endpoint }));
    return this.built.iotData;
  }

  private secretsManager(): SecretsManagerClient {
    this.built.secretsManager ??=
      this.clients.secretsManager ?? this.sdkClient((config) => new SecretsManagerClient(config));
    return this.built.secretsManager;
  }

  /** Builds an AWS SDK client for the region; its Node.js warning becomes one note, once per process. */
  private sdkClient<T>(build: (config: { region: string }) => T): T {
    const region = this.region;
    // The SDK reads its switch from the process environment when a client is built (see node-support.ts).
    if (process.env[SDK_NODE_WARNING_SWITCH] === undefined) {
      quietSdkNodeWarning(process.env);
      const note = sdkNodeNote(process.version);
      if (note) this.out.note(note);
    }
    return build({ region });
  }

  /** The deployed stack's outputs, read once. */
  public stackOutputs(): Promise<Readonly<Record<string, string>>> {
    this.outputs ??= this.readOutputs();
    return this.outputs;
  }

  private async readOutputs(): Promise<Readonly<Record<string, string>>> {
    const { stackName } = this.config;
    let response: DescribeStacksCommandOutput;
    try {
      response = await aws(
        `read stack ${stackName}`,
        this.cloudFormation().send(new DescribeStacksCommand({ StackName: stackName })),
      );
    } catch (error) {
      const cause = (error as Error).cause ?? error;
      if ((cause as Error).name === 'ValidationError')
        throw new UserError(
          `Stack ${stackName} is not deployed in ${this.region}: run \`npx cdk deploy -c env=${this.options.env}\`, or pick another --env / --region`,
          { cause: error },
        );
      throw error;
    }
    const stack = response.Stacks?.[0];
    return Object.fromEntries(
      (stack?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
    );
  }

  /** One stack output; a clear error names it when the deployed stack lacks it (an older version). */
  public async output(key: string): Promise<string> {
    const value = (await this.stackOutputs())[key];
    if (!value)
      throw new UserError(
        `Stack ${this.config.stackName} has no output ${key}: deploy the current version (\`npx cdk deploy -c env=${this.options.env}\`)`,
      );
    return value;
  }

  /** The Kafka client: `KAFKA_BROKERS` when set, otherwise the configured cluster with the credentials secret. */
  public kafka(): Promise<Kafka> {
    this.kafkaClient ??= this.buildKafka();
    return this.kafkaClient;
  }

  /** Which brokers commands talk to and where that came from (`KAFKA_BROKERS` or the configuration). */
  public kafkaTarget(): KafkaTarget {
    return kafkaTarget(this.environment, this.config, this.options.env);
  }

  private async buildKafka(): Promise<Kafka> {
    const target = this.kafkaTarget();
    const local = target.source === 'KAFKA_BROKERS';
    // Checked as `local` checks it, before kafkajs turns a missing port into "Port should be >= 0 … (NaN)".
    if (local && !envBrokers.safeParse(this.environment.KAFKA_BROKERS).success)
      throw new UserError(
        `KAFKA_BROKERS must be host:port[,host:port…], got "${this.environment.KAFKA_BROKERS ?? ''}"`,
      );
    const ssl = this.environment.KAFKA_SSL ? this.environment.KAFKA_SSL === 'true' : !local;
    const credentials = await this.kafkaCredentials(local).catch((error: unknown) => {
      // The configured cluster's credentials come from AWS; someone without AWS access may mean a local pipeline.
      if (!local && isUserError(error))
        throw new UserError(
          `${error.message}; for a pipeline on this machine (\`npx telemetry-ops local\`), set KAFKA_BROKERS to the brokers it prints`,
          { cause: error },
        );
      throw error;
    });
    return new Kafka({
      clientId: `telemetry-ops-${this.options.env}`,
      brokers: [...target.brokers],
      ssl,
      ...(credentials ? { sasl: { mechanism: 'plain' as const, ...credentials } } : {}),
      connectionTimeout: 10_000,
      requestTimeout: 30_000,
      retry: { retries: 3, initialRetryTime: 200 },
      logLevel: logLevel.NOTHING,
    });
  }

  /** The sink's consumer group (resolved once by the config schema when the configuration names none). */
  public get sinkGroupId(): string {
    return this.config.sink.consumerGroupId;
  }

  /** The sink's dead-letter topic name (resolved once by the config schema when the configuration names none). */
  public get sinkDeadLetterTopicName(): string {
    return this.config.sink.deadLetterTopic;
  }

  private async kafkaCredentials(local: boolean): Promise<{ username: string; password: string } | undefined> {
    const { KAFKA_USERNAME: username, KAFKA_PASSWORD: password } = this.environment;
    if (username && password) return { username, password };
    if (local) return undefined;
    const secretId =
      this.config.kafka.credentialsSecretArn ??
      this.config.kafka.credentialsSecretName ??
      (await this.output('CredentialsSecretArn'));
    const value = await this.secretJson(secretId, 'Kafka credentials');
    if (typeof value.username !== 'string' || typeof value.password !== 'string')
      throw new UserError(`Secret ${secretId} must be JSON {"username": "<API key>", "password": "<API secret>"}`);
    return { username: value.username, password: value.password };
  }

  /** A connected MongoDB client: `MONGODB_URI` when set, otherwise the URI secret. */
  public mongo(): Promise<MongoClient> {
    this.mongoClient ??= this.buildMongo();
    return this.mongoClient;
  }

  private async buildMongo(): Promise<MongoClient> {
    let uri = this.environment.MONGODB_URI;
    if (!uri) {
      const { mongo } = this.config.sink;
      const secretId = mongo.uriSecretArn ?? mongo.uriSecretName ?? (await this.output('MongoUriSecretArn'));
      const value = await this.secretJson(secretId, 'MongoDB URI');
      if (typeof value.uri !== 'string')
        throw new UserError(`Secret ${secretId} must be JSON {"uri": "mongodb+srv://…"}`);
      uri = value.uri;
    }
    let client: MongoClient;
    try {
      client = new MongoClient(uri, { appName: 'telemetry-ops', serverSelectionTimeoutMS: 10_000 });
    } catch (error) {
      // A malformed URI (MongoParseError, or the URL parser's own error): the user's to fix, never echoed (it may
      // hold a password).
      throw new UserError(
        `MongoDB connection string is not valid (${(error as Error).name}): check MONGODB_URI or the URI secret`,
        { cause: error },
      );
    }
    try {
      await client.connect();
    } catch (error) {
      await client.close().catch(() => {});
      throw new UserError(
        `Cannot reach MongoDB (${(error as Error).name}): check MONGODB_URI or the URI secret, and that this machine's IP is on the Atlas access list`,
        { cause: error },
      );
    }
    return client;
  }

  /** The sink's database, read-only, for the dashboard. */
  public async readableDb(): Promise<ReadableDb> {
    if (this.clients.readableDb) return this.clients.readableDb;
    const client = await this.mongo();
    return client.db(this.config.sink.mongo.database);
  }

  /** The sink's quarantine collection. */
  public async quarantine(): Promise<QuarantineCollection> {
    if (this.clients.quarantine) return this.clients.quarantine;
    const client = await this.mongo();
    const collection = client
      .db(this.config.sink.mongo.database)
      .collection<QuarantineDocument>(COLLECTIONS.quarantine);
    return {
      find: (filter, options) => ({
        toArray: () => mongoCall('read the quarantine', () => collection.find(filter, options).toArray()),
      }),
      deleteOne: (filter) => mongoCall('delete from the quarantine', () => collection.deleteOne(filter)),
      countDocuments: () => mongoCall('count the quarantine', () => collection.countDocuments()),
    };
  }

  /** The sink's readings collection. */
  public async readings(): Promise<ReadingsCollection> {
    if (this.clients.readings) return this.clients.readings;
    const client = await this.mongo();
    const collection = client.db(this.config.sink.mongo.database).collection<ReadingDocument>(COLLECTIONS.readings);
    // A time-series collection keeps the event id in an indexed `eventId` field, not in a unique `_id`
    const byId = (eventId: string) => (this.config.sink.mongo.timeSeries ? { eventId } : { _id: eventId });
    return { findById: (eventId) => mongoCall('read a reading', () => collection.findOne(byId(eventId))) };
  }

  /** A secret's string value, undefined when it holds none (binary, or no version yet). */
  public async secretString(secretId: string, what: string): Promise<string | undefined> {
    const response = await aws(
      `read the ${what} secret ${secretId}`,
      this.secretsManager().send(new GetSecretValueCommand({ SecretId: secretId })),
    );
    return response.SecretString;
  }

  private async secretJson(secretId: string, what: string): Promise<Record<string, unknown>> {
    const response = { SecretString: await this.secretString(secretId, what) };
    try {
      const value: unknown = JSON.parse(response.SecretString ?? '');
      if (value && typeof value === 'object') return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new UserError(`Secret ${secretId} (${what}) does not hold a JSON object`);
  }

  /** Closes whatever was opened. */
  public async close(): Promise<void> {
    const mongo = this.mongoClient;
    this.mongoClient = undefined;
    if (mongo) await mongo.then((client) => client.close()).catch(() => {});
    // Injected clients belong to the caller.
    const injected = new Set<unknown>(Object.values(this.clients));
    for (const client of Object.values(this.built)) if (!injected.has(client)) client.destroy();
  }
}
