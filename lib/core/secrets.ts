import { SecretValue, Validations } from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** Where a credential the user owns comes from: an existing secret, or one the stack creates empty. */
export type SecretSource = { readonly secretArn: string } | { readonly secretName: string } | { readonly create: true };

export interface UserSecretOptions {
  /** What the secret holds and its JSON shape, shown in the console. */
  readonly description: string;
  /** JSON fields of the secret, created as empty strings for the user to fill. */
  readonly fields: readonly string[];
  /** Why Secrets Manager rotation does not apply (the credential is issued and rotated elsewhere). */
  readonly rotation: string;
}

/**
 * Imports a user-managed secret (by complete ARN or by name), or creates it with empty fields for the user to fill
 * after the first deploy. The values never pass through the template: the functions read them at run time.
 */
export function userSecret(scope: Construct, id: string, source: SecretSource, options: UserSecretOptions): ISecret {
  if ('secretArn' in source) return Secret.fromSecretCompleteArn(scope, id, source.secretArn);
  if ('secretName' in source) return Secret.fromSecretNameV2(scope, id, source.secretName);
  const secret = new Secret(scope, id, {
    description: options.description,
    secretObjectValue: Object.fromEntries(options.fields.map((field) => [field, SecretValue.unsafePlainText('')])),
  });
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: options.rotation });
  return secret;
}
