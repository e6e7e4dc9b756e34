#!/usr/bin/env node
/**
 * CDK app entry: picks the environment's configuration (`-c env=<name>`, default from cdk.json), builds the stack,
 * and wires the compliance checks. No logic lives here.
 */
import { App } from 'aws-cdk-lib';
import { isUserError } from '../contracts/errors';
import { applyCompliance } from '../lib/compliance';
import { loadConfig } from '../lib/config/load';
import type { PipelineConfig } from '../lib/config/schema';
import { TelemetryPipelineStack } from '../lib/telemetry-pipeline-stack';

/** A mistake the user can fix (a bad configuration, construct props out of range) as its message alone. */
function exitOnUserError(error: unknown): never {
  // Its message lists every problem; a stack trace would bury it.
  if (!isUserError(error)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'dev');
let config: PipelineConfig;
try {
  config = loadConfig(envName);
} catch (error) {
  exitOnUserError(error);
}

try {
  new TelemetryPipelineStack(app, config.stackName, {
    config,
    description: `IoT telemetry pipeline (${envName}): IoT Core → SQS → Lambda → Kafka → Lambda → MongoDB`,
    env: config.account && config.region ? { account: config.account, region: config.region } : undefined,
  });
} catch (error) {
  // A construct's props validation (ConstructValidationError) names the construct path and every broken rule.
  exitOnUserError(error);
}
applyCompliance(app);
