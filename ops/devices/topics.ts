/**
 * The topics a device publishes to, derived exactly as the stack derives its policy: the rule's topic filter with
 * its `+` level replaced by the thing name, and the Basic Ingest form `$aws/rules/<ruleName>/<topic>`.
 */
import { devicePolicyOutput, deviceTopic } from '../../lib/ingest/rule-sql';

/** One IoT rule's route: its topic filter (one `+` level, the device id) and, if known, its name. */
export interface TopicRoute {
  readonly topicFilter: string;
  readonly ruleName?: string;
}

export interface DeviceTopic {
  /** What the device publishes to. */
  readonly topic: string;
  /** The same through Basic Ingest, when the rule name is known. */
  readonly basicIngestTopic?: string;
  readonly ruleName?: string;
}

/** The stack's placeholder for the thing name in its `DeviceTopic<n>` and `BasicIngestTopic<n>` outputs. */
const THING_PLACEHOLDER = '<thingName>';

export function topicsForDevice(thingName: string, routes: readonly TopicRoute[]): DeviceTopic[] {
  return routes.map(({ topicFilter, ruleName }) => {
    const topic = deviceTopic(topicFilter, thingName);
    return ruleName === undefined
      ? { topic }
      : { topic, ruleName, basicIngestTopic: `$aws/rules/${ruleName}/${topic}` };
  });
}

/**
 * What provisioning needs from the stack's outputs: the device policies (`DevicePolicyName`, `DevicePolicyName2`, …:
 * the stack splits the device's permissions so each policy stays within IoT's size limit, and a certificate needs
 * all of them), and a route per `DeviceTopic<n>` (with its rule name taken from `BasicIngestTopic<n>`). No policy
 * names when the outputs are missing.
 */
export function devicePlanFromStackOutputs(outputs: Readonly<Record<string, string>>): {
  policyNames: string[];
  routes: TopicRoute[];
} {
  const policyNames: string[] = [];
  for (let i = 0; outputs[devicePolicyOutput(i)] !== undefined; i++)
    policyNames.push(outputs[devicePolicyOutput(i)] as string);
  const routes: TopicRoute[] = [];
  for (let n = 1; outputs[`DeviceTopic${n}`] !== undefined; n++) {
    const topicFilter = (outputs[`DeviceTopic${n}`] as string).replaceAll(THING_PLACEHOLDER, '+');
    const basic = outputs[`BasicIngestTopic${n}`];
    const ruleName = basic?.startsWith('$aws/rules/') ? basic.split('/')[2] : undefined;
    routes.push(ruleName ? { topicFilter, ruleName } : { topicFilter });
  }
  return { policyNames, routes };
}
