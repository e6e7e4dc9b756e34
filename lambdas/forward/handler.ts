/**
 * Forwarder Lambda: SQS batch → Kafka. The AWS entry point only: the environment is parsed and the clients are
 * built once per container (a bad environment fails the cold start with a message naming each variable). The
 * behaviour lives in `forwarder.ts`, the wiring in `create-handler.ts`.
 */

import { ForwarderEnvironmentSchema } from '../../contracts/environment';
import { parseEnvironment } from '../shared/config';
import { createHandler, type SqsHandler } from './create-handler';

export const handler: SqsHandler = createHandler(parseEnvironment(ForwarderEnvironmentSchema));
