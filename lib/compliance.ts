import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/**
 * cdk-nag's AwsSolutions and Serverless packs as CDK validation plugins (cdk-nag 3): synth fails on any finding
 * that is not acknowledged, and every acknowledgement sits on the construct it concerns, with its reason.
 */
export function applyCompliance(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
