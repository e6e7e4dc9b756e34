/**
 * The sink's entry for a local run on the in-memory store: `lambdas/sink/handler.ts` with the store's collections
 * (reached through the MessagePort the worker is given, see memory-store-channel.ts) instead of a MongoDB
 * connection. Bundled and run exactly as the deployed entry is; only where the collections come from differs.
 */
import { workerData } from 'node:worker_threads';
import { SinkEnvironmentSchema } from '../../contracts/environment';
import { parseEnvironment } from '../../lambdas/shared/config';
import { createHandler, type SinkHandler } from '../../lambdas/sink/create-handler';
import { remoteSinkCollections } from './memory-store-channel';

/**
 * `createHandler` prepares a MongoDB connection it never opens when given collections; the schema still wants one
 * source of a URI. `.invalid` never resolves (RFC 2606), should anything try.
 */
const UNUSED_URI = 'mongodb://in-memory.invalid';

export const handler: SinkHandler = createHandler(
  parseEnvironment(SinkEnvironmentSchema, { ...process.env, MONGODB_URI: UNUSED_URI }),
  { collections: remoteSinkCollections((workerData as { store: import('node:worker_threads').MessagePort }).store) },
);
