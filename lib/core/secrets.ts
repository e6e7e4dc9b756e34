import { ArnFormat, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** The key an imported secret is encrypted with. */
interface ImportedSecretKey {
  /**
   * ARN of the customer-managed KMS key the secret is encrypted with: the function gets kms:Decrypt on it, through
   * Secrets Manager only.
   * @default the AWS-managed key (`aws/secretsmanager`), which needs no grant
   */
  readonly kmsKeyArn?: string;
}

/** Where a credential the user owns comes from: an existing secret, or one the stack creates empty. */
export type SecretSource =
  | ({
      /** Complete ARN of an existing secret (with the random suffix Secrets Manager appends). */
      readonly secretArn: string;
    } & ImportedSecretKey)
  | ({
      /** Name of an existing secret in this account and region. */
      readonly secretName: string;
    } & ImportedSecretKey)
  | {
      /** Create an empty secret with the expected JSON fields, to fill after the first deploy. */
      readonly create: true;
    };

/** What `userSecret` needs to create a secret the user fills. */
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
  if ('secretArn' in source || 'secretName' in source) return importedSecret(scope, id, source);
  const secret = new Secret(scope, id, {
    description: options.description,
    secretObjectValue: Object.fromEntries(options.fields.map((field) => [field, SecretValue.unsafePlainText('')])),
  });
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: options.rotation });
  return secret;
}

/** An existing secret, with the customer-managed key it is encrypted with when there is one (see `grantSecretRead`). */
function importedSecret(scope: Construct, id: string, source: Exclude<SecretSource, { create: true }>): ISecret {
  const encryptionKey = source.kmsKeyArn ? Key.fromKeyArn(scope, `${id}Key`, source.kmsKeyArn) : undefined;
  if ('secretArn' in source)
    return Secret.fromSecretAttributes(scope, id, { secretCompleteArn: source.secretArn, encryptionKey });
  // what Secret.fromSecretNameV2 builds: grants then cover the random suffix Secrets Manager appends (-??????)
  const secretPartialArn = Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: source.secretName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  return Secret.fromSecretAttributes(scope, id, { secretPartialArn, encryptionKey });
}

/**
 * Lets `grantee` read the secret: GetSecretValue on the secret and, when the secret has a customer-managed key,
 * kms:Decrypt on that key only through Secrets Manager in this region (`kms:ViaService`), which is how GetSecretValue
 * decrypts (AWS Secrets Manager User Guide, "Secret encryption and decryption",
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html; AWS KMS Developer Guide,
 * "kms:ViaService", https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 *
 * `ISecret.grantRead` alone is not enough: for an imported key it hands KMS a `ViaServicePrincipal`, which adds no
 * statement to the grantee's policy. The key's own policy must let the account's IAM policies grant it (KMS's default
 * key policy does); a key in another account must name the roles in its key policy.
 */
export function grantSecretRead(secret: ISecret, grantee: IGrantable): void {
  secret.grantRead(grantee);
  if (!secret.encryptionKey) return;
  Grant.addToPrincipal({
    grantee,
    actions: ['kms:Decrypt'],
    resourceArns: [secret.encryptionKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(secret).region}.amazonaws.com` } },
  });
}
