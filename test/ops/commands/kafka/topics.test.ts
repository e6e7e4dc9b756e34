/**
 * What `topics describe` checks and prints. The configs come from DescribeConfigs, which librdkafka's mock cluster
 * does not answer, so which topics are checked and how a topic with configs is printed are tested here.
 */
import { describe, expect, it } from 'vitest';
import { pipelineTopics, topicText } from '../../../../ops/commands/kafka/topics';
import type { OpsContext } from '../../../../ops/context';
import type { TopicDescription } from '../../../../ops/kafka/topics';

const partition = { replicas: [1, 2, 3], earliestOffset: 0, latestOffset: 4, messages: 4 };
const EMPTY: TopicDescription = {
  name: 't',
  partitionCount: 0,
  replicationFactor: 0,
  messages: 0,
  partitions: [],
  configs: null,
  notes: [],
};

describe('topicText', () => {
  it('prints the fields, every config the cluster reported, and one line per partition', () => {
    // Given a topic with one partition offline and one under-replicated, and its configs
    const topic: TopicDescription = {
      ...EMPTY,
      name: 'telemetry.readings.v1',
      partitionCount: 2,
      replicationFactor: 3,
      messages: 8,
      partitions: [
        { ...partition, partition: 0, leader: null, isr: [], underReplicated: true },
        { ...partition, partition: 1, leader: 2, isr: [2, 3], underReplicated: true },
      ],
      configs: { 'retention.ms': '604800000', 'min.insync.replicas': '2' },
    };

    // When it is printed
    const text = topicText(topic);

    // Then the counts, the configs and the partitions each have their line
    expect(text).toMatch(/^Topic:\s+telemetry\.readings\.v1$/m);
    expect(text).toMatch(/^Under-replicated:\s+2$/m);
    expect(text).toMatch(/^Offline:\s+1$/m);
    expect(text).toMatch(/^retention\.ms:\s+604800000$/m);
    expect(text).toMatch(/^min\.insync\.replicas:\s+2$/m);
    expect(text).toMatch(/^0\s+none\s+1,2,3\s+-?\s+0\s+4\s+4$/m);
    expect(text).toMatch(/^1\s+2\s+1,2,3\s+2,3\s+0\s+4\s+4$/m);
  });

  it('prints no config lines when the cluster gave none', () => {
    // Given a topic whose configs the cluster would not give
    const topic = { ...EMPTY, notes: ['configs of t not shown: the cluster does not answer DescribeConfigs'] };

    // When it is printed, Then only the topic's own fields are there
    expect(topicText(topic)).not.toMatch(/retention|min\.insync/);
  });
});

describe('pipelineTopics', () => {
  it("checks the telemetry topic against the forwarder's request bound, and the sink dead-letter topic", () => {
    // Given the configuration's Kafka section and its derived dead-letter topic
    const context = {
      config: { kafka: { topic: 'telemetry.readings.v1', maxRequestBytes: 500_000 } },
      sinkDeadLetterTopicName: 'telemetry.readings.v1.sink-dlt',
    } as unknown as Pick<OpsContext, 'config' | 'sinkDeadLetterTopicName'>;

    // When the pipeline's topics are named for the checks
    const topics = pipelineTopics(context);

    // Then each has its role, and only the one the forwarder writes has the request bound
    expect(topics).toEqual({
      'telemetry.readings.v1': { role: 'telemetry topic', maxRequestBytes: 500_000 },
      'telemetry.readings.v1.sink-dlt': { role: 'sink dead-letter topic' },
    });
  });
});
