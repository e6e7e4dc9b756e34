/** kafkajs' log lines through Powertools Logger: no reserved-key warnings, strings cut like failure.error. */
import { Logger } from '@aws-lambda-powertools/logger';
import { logLevel } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kafkaLogCreator } from '../../../../lambdas/shared/kafka/client';

afterEach(() => vi.restoreAllMocks());

/** The JSON lines a Powertools Logger writes while `action` runs. */
function linesWrittenBy(action: (logger: Logger) => void): Record<string, unknown>[] {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  action(new Logger({ serviceName: 'telemetry-forwarder', logLevel: 'WARN' }));
  vi.restoreAllMocks();
  return chunks
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('kafkaLogCreator', () => {
  it('maps a kafkajs line (timestamp, logger, level-like fields) without a Powertools reserved-key warning', () => {
    // Given a kafkajs log entry as kafkajs builds it
    const entry = {
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        timestamp: '2026-01-01T00:00:00.000Z',
        logger: 'kafkajs',
        message: 'Connection timeout',
        broker: 'b-1:9092',
        clientId: 'telemetry-forwarder',
        level: 'shadow',
        error: 'x'.repeat(5_000),
      },
    };
    // When it goes through the log creator into Powertools
    const lines = linesWrittenBy((logger) => kafkaLogCreator(logger)(logLevel.WARN)(entry));
    // Then one line, no warning about reserved keys, kafkajs' fields kept under names Powertools takes
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toMatch(/reserved key/);
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      message: 'kafkajs: Connection timeout',
      broker: 'b-1:9092',
      logger: 'kafkajs',
      kafkajs_level: 'shadow',
    });
    expect(String(lines[0]?.error)).toHaveLength(1_000);
  });
});
