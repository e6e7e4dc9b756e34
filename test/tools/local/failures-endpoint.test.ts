/**
 * The failures endpoint of a running `local` (tools/local/failures-endpoint.ts), as `failures list --local` reads it
 * and as a web page elsewhere would try to: it serves every dead letter with its raw payload, so it answers only
 * requests addressed to its loopback listener.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { FailureEnvelope } from '../../../contracts/failure';
import { readLocalFailures } from '../../../ops/failures/local-endpoint';
import { type FailuresEndpoint, startFailuresEndpoint } from '../../../tools/local/failures-endpoint';

const DEAD_LETTER: FailureEnvelope = {
  id: 'ingest-dlq:m-1',
  store: 'ingest-dlq',
  stage: 'forward',
  reason: 'max_receives_exceeded',
  error: 'received 3 times',
  firstFailedAt: '2026-12-01T09:00:00.000Z',
  attempts: 3,
  payload: { encoding: 'utf8', data: '{"deviceId":"sensor-a","secret":"raw payload"}' },
  pointer: 'sqs://local/ingest-dlq#m-1',
  deviceId: 'sensor-a',
  eventId: null,
};

let endpoint: FailuresEndpoint | undefined;
afterEach(async () => {
  await endpoint?.stop();
  endpoint = undefined;
});

const start = async () => {
  endpoint = await startFailuresEndpoint(`FailuresEndpointTest-${randomBytes(4).toString('hex')}`, async (store) =>
    store === 'ingest-dlq' ? [DEAD_LETTER] : { missing: 'not in this test' },
  );
  return endpoint;
};

/** GET `url` with the Host header `host` (fetch cannot set it). */
const getWithHost = (url: string, host: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const { hostname, port, pathname, search } = new URL(url);
    request({ host: hostname, port, path: `${pathname}${search}`, headers: { host } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });

describe('failures endpoint of telemetry-ops local', () => {
  it('answers `failures list --local` with the dead letters of a store', async () => {
    // Given the failures endpoint over an ingest dead-letter queue holding one message
    const { url } = await start();

    // When `failures list --local` reads it
    const answer = await readLocalFailures(url, 'ingest-dlq', 10);

    // Then it gets that dead letter and the store's total
    expect(answer).toEqual({ store: 'ingest-dlq', total: 1, failures: [DEAD_LETTER] });
  });

  it('answers a request addressed to the loopback name, by address or as localhost', async () => {
    // Given the failures endpoint on loopback
    const { url } = await start();
    const { port } = new URL(url);

    // When requests come addressed to 127.0.0.1 and to localhost
    const statuses = [
      (await getWithHost(`${url}?store=ingest-dlq`, `127.0.0.1:${port}`)).status,
      (await getWithHost(`${url}?store=ingest-dlq`, `localhost:${port}`)).status,
    ];

    // Then both are answered
    expect(statuses).toEqual([200, 200]);
  });

  it('refuses a request under any other Host name (DNS rebinding), without a payload in the answer', async () => {
    // Given a page on attacker.example whose name now resolves to 127.0.0.1
    const { url } = await start();
    const { port } = new URL(url);

    // When the browser sends its request to the endpoint under the attacker's name
    const answer = await getWithHost(`${url}?store=ingest-dlq`, `attacker.example:${port}`);

    // Then it is refused, and no dead letter is in the answer
    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain('raw payload');
    expect(JSON.parse(answer.body)).toEqual({ error: `unexpected Host header; use ${url}` });
  });
});
