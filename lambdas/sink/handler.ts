/**
 * Sink Lambda: Kafka batch (event source mapping) → MongoDB. The AWS entry point only: the environment is parsed and
 * the MongoDB connection prepared once per container. The behaviour lives in `sink.ts`, the wiring in
 * `create-handler.ts`.
 */

import { SinkEnvironmentSchema } from '../../contracts/environment';
import { parseEnvironment } from '../shared/config';
import { createHandler, type SinkHandler } from './create-handler';

export const handler: SinkHandler = createHandler(parseEnvironment(SinkEnvironmentSchema));
