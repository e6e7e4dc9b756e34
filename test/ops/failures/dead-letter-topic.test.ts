/** The sink's Kafka dead-letter topic as a failure store: what stays pending across redrives. */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { FailureEnvelope } from '../../../contracts/failure';
import { cli, configDir } from '../../helpers/cli';
import { devicePayload, envelope } from '../../helpers/factories';
import {
  cluster,
  deadLettered,
  INGEST,
  kafka,
  lambdaDeadLetter,
  quarantine,
  run,
  sentBodies,
  sqs,
  useFailureStores,
} from './fixtures';

useFailureStores();

describe('failures redrive', () => {
  it('redrives the dead-letter topic once, keeps a foreign record pending until it is named, then marks it too', async () => {
    // When redriving twice
    const first = await run(['failures', 'redrive', '--store', 'sink-dlt', '--json']);
    const firstSent = sentBodies();
    sqs.resetHistory();
    const second = await run(['failures', 'redrive', '--store', 'sink-dlt', '--json']);
    const listed = await run(['failures', 'list', '--store', 'sink-dlt', '--json']);

    // Then Lambda's record went to the ingest queue once; the foreign one was skipped and is still listed
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(firstSent).toEqual([{ queue: INGEST, body: JSON.stringify(deadLettered) }]);
    const skipped = {
      id: 'sink-dlt:0@1',
      outcome: 'skipped',
      detail: 'not a Lambda on-failure document: look at it (`failures show`), then redrive it by --id',
    };
    expect(JSON.parse(first.stdout).reports[0].items).toEqual([skipped, { id: 'sink-dlt:0@0', outcome: 'redriven' }]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).reports[0].items).toEqual([skipped]);
    expect(sentBodies()).toEqual([]);
    expect(JSON.parse(listed.stdout).failures.map((f: FailureEnvelope) => f.id)).toEqual(['sink-dlt:0@1']);

    // When the operator names it, it goes as it is and the store is empty
    sqs.resetHistory();
    const named = await run(['failures', 'redrive', '--id', 'sink-dlt:0@1']);
    const after = await run(['failures', 'list', '--store', 'sink-dlt', '--json']);
    expect(named.code).toBe(0);
    expect(sentBodies()).toEqual([{ queue: INGEST, body: 'written by someone else' }]);
    expect(JSON.parse(after.stdout).failures).toEqual([]);
  });

  it('keeps a dead-letter record SQS refused, and every later one of its partition, pending', async () => {
    // Given three failed records in one partition of another deployment's dead-letter topic
    const topic = 'other.readings.sink-dlt';
    cluster.createTopic(topic, 1);
    const producer = kafka.producer();
    await producer.connect();
    const values = [0, 1, 2].map((i) => envelope(`sensor-${10 + i}`, devicePayload({ seq: i })));
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ value: lambdaDeadLetter(JSON.stringify(value), i) })),
    });
    await producer.disconnect();
    const otherDir = configDir({ sink: { deadLetterTopic: topic, consumerGroupId: 'other-sink' } });
    // SQS takes the first and third, refuses the second
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
    });
    const inOther = (args: string[]) =>
      cli(args, {
        environment: { KAFKA_BROKERS: cluster.bootstrapServers.join(',') },
        clients: { sqs: new SQSClient({}), cloudFormation: new CloudFormationClient({}), quarantine },
        configDir: otherDir,
      });

    // When
    const result = await inOther(['failures', 'redrive', '--store', 'sink-dlt']);
    const listed = await inOther(['failures', 'list', '--store', 'sink-dlt', '--json']);

    // Then
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: 1 message(s) could not be redriven; they stay in their store\n');
    expect(JSON.parse(listed.stdout).failures.map((f: FailureEnvelope) => f.id)).toEqual([
      'sink-dlt:0@1',
      'sink-dlt:0@2',
    ]);
  });
});
