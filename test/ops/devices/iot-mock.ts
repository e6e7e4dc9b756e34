/** aws-sdk-client-mock for the IoT client, and the calls it saw as `[command, input]` pairs in order. */
import {
  IoTClient,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';

export const iotMock = mockClient(IoTClient);

export const iot = () => new IoTClient({ region: 'eu-west-1' });

/** Every call so far, as `[CommandName without "Command", input]`. */
export function sentCommands(): [string, unknown][] {
  return iotMock.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: unknown };
    return [command.constructor.name.replace(/Command$/, ''), command.input];
  });
}

/** Just the command names, in order. */
export function sentNames(): string[] {
  return sentCommands().map(([name]) => name);
}

/** An error as the SDK raises it, classified by `name`. */
export function awsError<T extends Error>(
  Type: new (options: { message: string; $metadata: object }) => T,
  message: string,
): T {
  return new Type({ message, $metadata: {} });
}

export const notFound = (message = 'The specified resource does not exist') =>
  awsError(ResourceNotFoundException, message);

export const REGION_ARN = 'arn:aws:iot:eu-west-1:123456789012';
export const certArn = (id: string) => `${REGION_ARN}:cert/${id}`;

/** Things tagged with the pipeline, one ListThings page each, with their principals. */
export function givenPipelineThings(principals: Record<string, string[]>): void {
  const names = Object.keys(principals);
  names.forEach((thingName, page) => {
    const next = page + 1 < names.length ? { nextToken: `p${page + 2}` } : {};
    iotMock
      .on(ListThingsCommand, { nextToken: page === 0 ? undefined : `p${page + 1}` })
      .resolves({ things: [{ thingName }], ...next });
    iotMock.on(ListThingPrincipalsCommand, { thingName }).resolves({ principals: principals[thingName] ?? [] });
  });
}
