import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** The context Lambda passes an invocation of `functionName` that may run for `timeoutMs` from now. */
export function invocationContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: '0',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export const localFunctionArn = (functionName: string): string =>
  `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`;
