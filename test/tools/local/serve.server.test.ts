/**
 * `telemetry-ops local` as a user runs it — both bundles, the mock cluster, a real MongoDB. Runs when MONGODB_URI is
 * set (for example `MONGODB_URI=mongodb://127.0.0.1:27017 npm test`, after `docker compose up -d mongodb`);
 * reported as skipped otherwise. Uses a database of its own and drops it.
 */
import { MongoClient } from 'mongodb';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { OpsContext } from '../../../ops/context';
import { Output } from '../../../ops/output';
import { serveLocal } from '../../../tools/local/serve';
import { configDir } from '../../helpers/cli';
import { devicePayload } from '../../helpers/factories';

const uri = process.env.MONGODB_URI;

class Recorder {
  public text = '';
  public readonly isTTY = false;
  public write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

describe.skipIf(!uri)('telemetry-ops local against a real MongoDB server (MONGODB_URI)', () => {
  it('stores a device message through the bundled forwarder and sink', async () => {
    // Given `local` serving against the real MongoDB, in a database of its own
    const database = `local_${Date.now()}`;
    const stdout = new Recorder();
    const stderr = new Recorder();
    const context = new OpsContext(
      { env: 'dev', configDir: configDir({ sink: { mongo: { database } } }) },
      new Output({ stdout, stderr }, false),
      { MONGODB_URI: uri },
    );
    const abort = new AbortController();
    const served = serveLocal(context, { mqttPort: 0, mqttHost: '127.0.0.1', logLevel: 'WARN' }, abort.signal);
    const client = new MongoClient(uri ?? '');
    try {
      await expect.poll(() => stderr.text, { timeout: 30_000 }).toContain('Ctrl-C stops it.');
      const url = /mqtt:\/\/127\.0\.0\.1:\d+/.exec(stderr.text)?.[0] ?? '';
      // When a device publishes one reading
      const device = await connectAsync(url, { clientId: 'sensor-1' });
      await device.publishAsync('sensors/sensor-1/telemetry', JSON.stringify(devicePayload({ ts: Date.now() })), {
        qos: 1,
      });
      await device.endAsync();

      const readings = client.db(database).collection('readings');
      // Then the reading is stored once, and the summary counts it
      await expect.poll(() => readings.countDocuments(), { timeout: 30_000 }).toBe(1);
      expect(await readings.findOne()).toMatchObject({
        deviceId: 'sensor-1',
        sourceTopic: 'sensors/sensor-1/telemetry',
      });
    } finally {
      abort.abort();
      await served;
      await client.db(database).dropDatabase();
      await client.close();
    }
    expect(stdout.text).toContain('forwarded 1, sink acknowledged 1\nstored (MongoDB): 1 new readings');
  }, 90_000);
});
