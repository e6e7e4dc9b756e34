/**
 * An AWS IoT Core policy as the IAM engine can evaluate it for one connection. IoT policies use IAM's grammar, but
 * their policy variables (`${iot:Connection.Thing.ThingName}`, `${iot:ClientId}`) and IoT-only condition keys
 * (`iot:Connection.Thing.IsAttached`) are resolved by IoT Core per connection ("AWS IoT Core policy variables",
 * https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-variables.html; "Thing policy variables",
 * https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html). This substitutes them for a
 * given connection, as IoT would, before the engine sees the policy.
 */
import type { PolicyDocument } from './template-policies';

export interface IotConnection {
  /** The thing attached to the certificate the device connects with. */
  readonly thingName: string;
  /** The MQTT client id it connects with. @default the thing name */
  readonly clientId?: string;
  /** Whether the thing is attached to the certificate. @default true */
  readonly isAttached?: boolean;
}

const IOT_ONLY_CONDITION_KEYS = ['iot:Connection.Thing.IsAttached'];

/** The policy with this connection's variables substituted and its IoT-only conditions decided. */
export function policyForConnection(policy: PolicyDocument, connection: IotConnection): PolicyDocument {
  const variables: Record<string, string> = {
    'iot:Connection.Thing.ThingName': connection.thingName,
    'iot:ClientId': connection.clientId ?? connection.thingName,
  };
  const text = JSON.stringify(policy).replace(/\$\{([^}]+)\}/g, (match, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new Error(`IoT policy variable ${match} is not supported by the test helper`);
    return value;
  });
  const substituted = JSON.parse(text) as PolicyDocument;
  return {
    ...substituted,
    Statement: substituted.Statement.flatMap((statement) => {
      const condition = statement.Condition as Record<string, Record<string, string>> | undefined;
      if (!condition) return [statement];
      const remaining: Record<string, Record<string, string>> = {};
      let holds = true;
      for (const [operator, keys] of Object.entries(condition)) {
        for (const [key, expected] of Object.entries(keys)) {
          if (!IOT_ONLY_CONDITION_KEYS.includes(key)) {
            remaining[operator] = { ...remaining[operator], [key]: expected };
            continue;
          }
          if (operator !== 'Bool') throw new Error(`${operator} on ${key} is not supported by the test helper`);
          holds &&= String(connection.isAttached ?? true) === String(expected);
        }
      }
      // a statement whose IoT-only condition does not hold never applies to this connection
      if (!holds) return [];
      const { Condition: _, ...rest } = statement;
      return [Object.keys(remaining).length > 0 ? { ...rest, Condition: remaining } : rest];
    }),
  };
}
