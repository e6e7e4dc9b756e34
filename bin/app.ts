#!/usr/bin/env node
/**
 * CDK app entry: picks the environment's configuration (`-c env=<name>`, default from cdk.json), builds the stack,
 * and wires the compliance checks. No logic lives here.
 */
import { App } from 'aws-cdk-lib';
import { applyCompliance } from '../lib/compliance';
import { loadConfig } from '../lib/config/load';
import { TelemetryPipelineStack } from '../lib/telemetry-pipeline-stack';

const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'dev');
const config = loadConfig(envName);

new TelemetryPipelineStack(app, config.stackName, {
  config,
  description: `IoT telemetry pipeline (${envName}): IoT Core → SQS → Lambda → Kafka → Lambda → MongoDB`,
  env: config.account && config.region ? { account: config.account, region: config.region } : undefined,
});
applyCompliance(app);
