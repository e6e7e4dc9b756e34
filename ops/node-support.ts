/**
 * Which Node.js the CLI runs on, and the AWS SDK's warning about it.
 *
 * On Node.js < 22 every AWS SDK for JavaScript v3 client prints an 8-line `NodeVersionSupportWarning`
 * (`process.emitWarning` with no type or code of its own, so Node's `--disable-warning` cannot single it out):
 * SDK releases after the first week of January 2027 require Node.js ≥ 22 ("January 2027: End of Support for Node.js
 * 20.x in AWS SDK for JavaScript", https://github.com/aws/aws-sdk-js-v3/issues/7983). The SDK's own switch,
 * `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true` (named in that announcement), silences exactly that
 * warning; the CLI sets it and says the same thing in one line instead.
 */

/** The AWS SDK's switch for its Node.js version warning. */
export const SDK_NODE_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** The oldest Node.js major the AWS SDK supports after the first week of January 2027. */
export const SDK_MINIMUM_NODE_MAJOR = 22;

/** Silences the SDK's multi-line warning, unless the user set the switch themselves. */
export function quietSdkNodeWarning(environment: NodeJS.ProcessEnv): void {
  environment[SDK_NODE_WARNING_SWITCH] ??= 'true';
}

/** The one line that replaces the SDK's warning, or undefined on a Node.js the SDK keeps supporting. */
export function sdkNodeNote(nodeVersion: string): string | undefined {
  const major = Number(nodeVersion.replace(/^v/, '').split('.')[0]);
  if (major >= SDK_MINIMUM_NODE_MAJOR) return undefined;
  return `note: Node.js ${nodeVersion.replace(/^v/, '')}: AWS SDK releases after January 2027 need Node.js ≥ ${SDK_MINIMUM_NODE_MAJOR} (README, "Quick start")`;
}
