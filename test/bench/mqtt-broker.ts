/**
 * Runs an aedes MQTT broker in its own process, so that the simulator benchmark's CPU figures count only the
 * simulator. Prints one JSON line `{"url": "mqtt://127.0.0.1:<port>"}` when ready; answers each line on standard
 * input with `{"received": <publishes so far>}`; stops when its standard input closes.
 * Usage: node --import tsx test/bench/mqtt-broker.ts
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { Aedes } from 'aedes';

async function main(): Promise<void> {
  const broker = await Aedes.createBroker();
  let received = 0;
  broker.on('publish', (_packet, client) => {
    if (client) received++;
  });
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${JSON.stringify({ url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
  const input = createInterface({ input: process.stdin });
  input.on('line', () => process.stdout.write(`${JSON.stringify({ received })}\n`));
  input.on('close', () => {
    broker.close(() => server.close(() => process.exit(0)));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
