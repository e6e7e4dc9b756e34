/**
 * AWS SDK errors a user can fix (credentials, access, region, a request AWS refused) as one clear line. Its own
 * module, light on imports, so command modules can use it without loading the SDK clients.
 */
import { isUserError, UserError } from '../contracts/errors';

/** SDK error names that mean "fix your setup", with what to tell the user. */
const AWS_SETUP_ERRORS: Readonly<Record<string, string>> = {
  CredentialsProviderError: 'no AWS credentials found (set AWS_PROFILE, or run `aws configure` / `aws sso login`)',
  ExpiredTokenException: 'the AWS session expired (log in again, e.g. `aws sso login`)',
  UnrecognizedClientException: 'AWS rejected the credentials (check AWS_PROFILE and the region)',
  UnauthorizedException: 'access denied',
  InvalidClientTokenId: 'AWS rejected the credentials (check AWS_PROFILE and the region)',
  AccessDenied: 'access denied',
  AccessDeniedException: 'access denied',
};

/** Network failures reaching AWS, by Node error code or SDK error name. */
const NETWORK_ERRORS = new Set(['ENOTFOUND', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'TimeoutError']);

/**
 * The one-line error for an AWS SDK error a user can fix, or undefined: missing or rejected credentials, denied
 * access, an endpoint that cannot be reached (often a mistyped region), and any other request AWS refused as the
 * caller's fault (4xx), with AWS's own message.
 */
export function awsUserError(error: unknown, what: string): UserError | undefined {
  if (isUserError(error)) return error;
  if (!(error instanceof Error)) return undefined;
  const { name, message } = error;
  const code = (error as { code?: unknown }).code;
  const hint = AWS_SETUP_ERRORS[name];
  if (hint) return new UserError(`Cannot ${what}: ${hint}. (${message})`, { cause: error });
  if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue')
    return new UserError(`Cannot ${what}: the queue does not exist (is the stack deployed in this region?)`, {
      cause: error,
    });
  if (NETWORK_ERRORS.has(name) || (typeof code === 'string' && NETWORK_ERRORS.has(code)))
    return new UserError(
      `Cannot ${what}: AWS is unreachable (${typeof code === 'string' ? code : name}): check the region (--region, AWS_REGION) and the network`,
      { cause: error },
    );
  if ((error as { $fault?: unknown }).$fault === 'client')
    return new UserError(`Cannot ${what}: ${name}: ${message}`, { cause: error });
  return undefined;
}

/** Wraps an AWS call so errors a user can fix become one clear line instead of an SDK stack. */
export async function aws<T>(what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw awsUserError(error, what) ?? error;
  }
}
