/**
 * In-process Kafka-protocol broker for `telemetry-ops local`, tests and benchmarks: librdkafka's mock cluster,
 * driven through koffi.
 *
 * The mock speaks the real Kafka wire protocol on loopback TCP, so kafkajs talks to it exactly as it talks to
 * Confluent Cloud (minus TLS/SASL). Topics must be created through {@link KafkaMockCluster.createTopic}: kafkajs'
 * `admin.createTopics` does not work against the mock (it reports controller id 0).
 */
import type KoffiModule from 'koffi';
import { UserError } from '../../contracts/errors';
import { requireDevDependency } from '../../ops/dev-dependency';

/** Kafka protocol API keys used with {@link KafkaMockCluster.pushRequestErrors}. */
export const ApiKey = { Produce: 0, Fetch: 1, Metadata: 3, OffsetCommit: 8 } as const;

/** Kafka protocol error codes (a subset; see the Kafka protocol guide). */
export const KafkaErrorCode = {
  /** librdkafka-internal: makes the mock broker drop the client's connection. */
  Transport: -195,
  CorruptMessage: 2,
  NotLeaderForPartition: 6,
  RequestTimedOut: 7,
  MessageTooLarge: 10,
  NotEnoughReplicas: 19,
  NotEnoughReplicasAfterAppend: 20,
  InvalidRecord: 87,
  TopicAuthorizationFailed: 29,
} as const;

interface Native {
  confNew: () => unknown;
  confSet: (conf: unknown, name: string, value: string, errstr: Buffer, size: number) => number;
  kafkaNew: (type: number, conf: unknown, errstr: Buffer, size: number) => unknown;
  kafkaDestroy: (rk: unknown) => void;
  clusterNew: (rk: unknown, brokers: number) => unknown;
  clusterDestroy: (cluster: unknown) => void;
  bootstraps: (cluster: unknown) => string;
  topicCreate: (cluster: unknown, topic: string, partitions: number, replication: number) => number;
  brokerDown: (cluster: unknown, brokerId: number) => number;
  brokerUp: (cluster: unknown, brokerId: number) => number;
  brokerRtt: (cluster: unknown, brokerId: number, rttMs: number) => number;
  pushErrors: (cluster: unknown, apiKey: number, count: number, errors: number[]) => void;
  /** Variadic: `count` pairs of ('int', error code, 'int', round-trip ms). */
  pushBrokerErrors: (cluster: unknown, brokerId: number, apiKey: number, count: number, ...pairs: unknown[]) => number;
  brokerErrorCount: (cluster: unknown, brokerId: number, apiKey: number, count: number[]) => number;
  partitionSetLeader: (cluster: unknown, topic: string, partition: number, brokerId: number) => number;
  errName: (code: number) => string;
}

/** librdkafka (the shared library the mock lives in) is not installed. */
export class LibrdkafkaMissingError extends UserError {
  public override readonly name = 'LibrdkafkaMissingError';
}

let native: Native | undefined;

function loadNative(): Native {
  if (native) return native;
  // Loaded on use: koffi is a development dependency, and the operator CLI loads this module for `local` only
  const koffi = requireDevDependency<typeof KoffiModule>('koffi', 'the Kafka mock cluster (librdkafka through koffi)');
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('librdkafka.so.1');
  } catch (error) {
    throw new LibrdkafkaMissingError(
      'librdkafka is not installed: the Kafka mock cluster needs it. Install it with `apt-get install -y librdkafka1` (bash .ci/run does this).',
      { cause: error },
    );
  }
  koffi.opaque('rd_kafka_conf_t');
  koffi.opaque('rd_kafka_t');
  koffi.opaque('rd_kafka_mock_cluster_t');
  native = {
    confNew: lib.func('rd_kafka_conf_t *rd_kafka_conf_new()'),
    confSet: lib.func(
      'int rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, _Out_ uint8_t *errstr, size_t size)',
    ),
    kafkaNew: lib.func('rd_kafka_t *rd_kafka_new(int type, rd_kafka_conf_t *conf, _Out_ uint8_t *errstr, size_t size)'),
    kafkaDestroy: lib.func('void rd_kafka_destroy(rd_kafka_t *rk)'),
    clusterNew: lib.func('rd_kafka_mock_cluster_t *rd_kafka_mock_cluster_new(rd_kafka_t *rk, int broker_cnt)'),
    clusterDestroy: lib.func('void rd_kafka_mock_cluster_destroy(rd_kafka_mock_cluster_t *mcluster)'),
    bootstraps: lib.func('const char *rd_kafka_mock_cluster_bootstraps(rd_kafka_mock_cluster_t *mcluster)'),
    topicCreate: lib.func(
      'int rd_kafka_mock_topic_create(rd_kafka_mock_cluster_t *mcluster, const char *topic, int partition_cnt, int replication_factor)',
    ),
    brokerDown: lib.func('int rd_kafka_mock_broker_set_down(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id)'),
    brokerUp: lib.func('int rd_kafka_mock_broker_set_up(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id)'),
    brokerRtt: lib.func(
      'int rd_kafka_mock_broker_set_rtt(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id, int rtt_ms)',
    ),
    pushErrors: lib.func(
      'void rd_kafka_mock_push_request_errors_array(rd_kafka_mock_cluster_t *mcluster, int16_t api_key, size_t cnt, const int *errors)',
    ),
    pushBrokerErrors: lib.func(
      'int rd_kafka_mock_broker_push_request_error_rtts(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id, int16_t ApiKey, size_t cnt, ...)',
    ),
    brokerErrorCount: lib.func(
      'int rd_kafka_mock_broker_error_stack_cnt(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id, int16_t ApiKey, _Out_ size_t *cntp)',
    ),
    partitionSetLeader: lib.func(
      'int rd_kafka_mock_partition_set_leader(rd_kafka_mock_cluster_t *mcluster, const char *topic, int32_t partition, int32_t broker_id)',
    ),
    errName: lib.func('const char *rd_kafka_err2name(int err)'),
  };
  return native;
}

/** Options of {@link KafkaMockCluster.start}. */
export interface KafkaMockClusterOptions {
  /** Number of brokers; their ids are 1..brokers. @default 3 */
  readonly brokers?: number;
}

/** A running librdkafka mock cluster. Call {@link stop} when done (in `afterAll`). */
export class KafkaMockCluster {
  /** Broker ids, 1-based as librdkafka assigns them. */
  public readonly brokerIds: readonly number[];
  /** `host:port` of every broker, for kafkajs' `brokers` option. */
  public readonly bootstrapServers: readonly string[];

  private stopped = false;

  private constructor(
    private readonly lib: Native,
    private readonly handle: unknown,
    private readonly cluster: unknown,
    brokers: number,
  ) {
    this.brokerIds = Array.from({ length: brokers }, (_, i) => i + 1);
    this.bootstrapServers = lib.bootstraps(cluster).split(',');
  }

  /** Starts a mock cluster on loopback with ephemeral ports. */
  public static start(options: KafkaMockClusterOptions = {}): KafkaMockCluster {
    const brokers = options.brokers ?? 3;
    const lib = loadNative();
    const errstr = Buffer.alloc(512);
    const conf = lib.confNew();
    // The handle only does the mock's bookkeeping; keep its own logging quiet.
    lib.confSet(conf, 'log_level', '0', errstr, errstr.length);
    const handle = lib.kafkaNew(0 /* RD_KAFKA_PRODUCER */, conf, errstr, errstr.length);
    if (!handle) throw new Error(`rd_kafka_new failed: ${errstr.toString('utf8').replace(/\0.*$/s, '')}`);
    const cluster = lib.clusterNew(handle, brokers);
    if (!cluster) {
      lib.kafkaDestroy(handle);
      throw new Error('rd_kafka_mock_cluster_new failed');
    }
    return new KafkaMockCluster(lib, handle, cluster, brokers);
  }

  /** Creates a topic (the mock's own API; see the module comment). */
  public createTopic(topic: string, partitions: number, replicationFactor = 1): void {
    this.check(this.lib.topicCreate(this.cluster, topic, partitions, replicationFactor), `create topic ${topic}`);
  }

  /** Closes the broker's connections and refuses new ones; leadership does not move. */
  public brokerDown(brokerId: number): void {
    this.check(this.lib.brokerDown(this.cluster, brokerId), `set broker ${brokerId} down`);
  }

  public brokerUp(brokerId: number): void {
    this.check(this.lib.brokerUp(this.cluster, brokerId), `set broker ${brokerId} up`);
  }

  /** Delays every response of the broker by `rttMs` (0 restores it). */
  public setRtt(brokerId: number, rttMs: number): void {
    this.check(this.lib.brokerRtt(this.cluster, brokerId, rttMs), `set rtt of broker ${brokerId}`);
  }

  /** The next `errors.length` requests of `apiKey`, on any broker, fail with these error codes in order. */
  public pushRequestErrors(apiKey: number, errors: readonly number[]): void {
    this.lib.pushErrors(this.cluster, apiKey, errors.length, [...errors]);
  }

  /**
   * The next `errors.length` requests of `apiKey` that broker `brokerId` receives fail with these error codes in
   * order. Unlike {@link pushRequestErrors}, what is left of them can be counted ({@link pendingBrokerRequestErrors}).
   */
  public pushBrokerRequestErrors(brokerId: number, apiKey: number, errors: readonly number[]): void {
    const pairs = errors.flatMap((code) => ['int', code, 'int', 0]);
    this.check(
      this.lib.pushBrokerErrors(this.cluster, brokerId, apiKey, errors.length, ...pairs),
      `push errors on broker ${brokerId}`,
    );
  }

  /** How many errors pushed with {@link pushBrokerRequestErrors} broker `brokerId` has not returned yet. */
  public pendingBrokerRequestErrors(brokerId: number, apiKey: number): number {
    const count = [0];
    this.check(this.lib.brokerErrorCount(this.cluster, brokerId, apiKey, count), `count errors on broker ${brokerId}`);
    return Number(count[0]);
  }

  public setPartitionLeader(topic: string, partition: number, brokerId: number): void {
    this.check(
      this.lib.partitionSetLeader(this.cluster, topic, partition, brokerId),
      `set leader of ${topic}/${partition}`,
    );
  }

  /** Destroys the cluster and its librdkafka handle. Safe to call twice. */
  public stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.lib.clusterDestroy(this.cluster);
    this.lib.kafkaDestroy(this.handle);
  }

  private check(code: number, what: string): void {
    if (code !== 0) throw new Error(`Kafka mock: ${what} failed with ${this.lib.errName(code)} (${code})`);
  }
}
