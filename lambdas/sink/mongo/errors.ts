/**
 * What MongoDB errors mean for the sink: classified by the driver's error `name` and the server's `code` (never by
 * message text), described without credentials.
 */
import { causeChain, describeError, hasErrorNamed } from '../../shared/errors';
import type { FailureKind, StoreFailure } from '../ports';

/** What a MongoDB error means for the records it concerns. */
export type MongoErrorClass =
  /** E11000: the document exists already. For insert-if-absent writes, that is success. */
  | 'duplicate'
  /** Worth retrying: network, failover, timeouts, server selection, write concern. */
  | 'transient'
  /** This document can never be written (validation, size, bad value): quarantine it. */
  | 'permanent';

/**
 * Server codes that condemn one document, not the deployment: bad value, type mismatch, invalid BSON, path not
 * viable, dollar-prefixed or dotted field, document validation, size limits ("Error Codes", MongoDB Manual,
 * https://www.mongodb.com/docs/manual/reference/error-codes/).
 */
const PERMANENT_CODES = new Set([2, 9, 14, 22, 28, 52, 55, 56, 57, 121, 10334, 17280, 17419]);

const DUPLICATE_CODES = new Set([11000, 11001]);

/**
 * Classifies an error, or one entry of a bulk write's `writeErrors`, by its code. Only the document-level codes
 * above quarantine a record; everything else (network, failover, time limits, authentication, quotas) is retried,
 * so a deployment problem can never push good records into quarantine. The event source's bounded retries and its
 * on-failure destination catch what stays broken.
 */
export function classifyMongoError(error: unknown): MongoErrorClass {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'number' && DUPLICATE_CODES.has(code)) return 'duplicate';
    if (typeof code === 'number' && PERMANENT_CODES.has(code)) return 'permanent';
  }
  return 'transient';
}

/**
 * Whether the error (or one it wraps) is a failed server selection: the driver found no server to talk to in
 * `serverSelectionTimeoutMS`. By `name`, which the driver defines on each of its error classes (a getter, so it
 * survives minification), not by `instanceof`: errors also cross module copies (a bundle and its test).
 */
export const isServerSelectionError = (error: unknown): boolean => hasErrorNamed(error, 'MongoServerSelectionError');

/** What an operator should check when the sink cannot reach MongoDB. */
export const SERVER_SELECTION_HINT =
  'MongoDB server selection timed out: the function cannot reach the cluster. Check the Atlas network access list (the NAT gateway elastic IP, or 0.0.0.0/0 while testing), or the PrivateLink/peering routes and security groups, and that the cluster is running.';

/**
 * A failure of a whole call as the ports report it: classified (a duplicate key there confirms nothing: transient),
 * described without credentials, with the operator hint when the cluster is out of reach.
 */
export function storeFailure(error: unknown, credentials: readonly string[] = []): StoreFailure {
  const kind: FailureKind = classifyMongoError(error) === 'permanent' ? 'permanent' : 'transient';
  const described = redactCredentials(describeError(error), credentials);
  return isServerSelectionError(error)
    ? { status: 'failed', kind, error: described, hint: SERVER_SELECTION_HINT }
    : { status: 'failed', kind, error: described };
}

/** What stands in for a credential in logs and quarantine documents. */
export const REDACTED = '<redacted>';

const URI_USERINFO = /(mongodb(?:\+srv)?:\/\/)[^\s/?#]*@/g;

/**
 * The credentials of a MongoDB URI, for `redactCredentials`: its whole userinfo, the user name and the password, raw
 * and percent-decoded. Read without a URI parser, because the URIs that matter most here are the ones the driver
 * refuses (`Username contains unescaped characters <username>` quotes the name). Pieces under 3 characters are left
 * out: redacting every "a" would make messages unreadable and protect nothing.
 */
export function credentialsOf(uri: string): string[] {
  const scheme = /^mongodb(?:\+srv)?:\/\//.exec(uri);
  if (!scheme) return [];
  const rest = uri.slice(scheme[0].length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return [];
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  const pieces = colon < 0 ? [userinfo] : [userinfo, userinfo.slice(0, colon), userinfo.slice(colon + 1)];
  const decoded = pieces.flatMap((piece) => {
    try {
      return [decodeURIComponent(piece)];
    } catch {
      return [];
    }
  });
  return [...new Set([...pieces, ...decoded])].filter((piece) => piece.length >= 3).sort((a, b) => b.length - a.length);
}

/**
 * `text` without credentials: any `mongodb://user:password@` userinfo, and every given credential wherever it
 * appears (driver messages quote them out of URI context). For every driver or connection error before it is logged
 * or written to a quarantine document.
 */
export function redactCredentials(text: string, credentials: readonly string[] = []): string {
  let redacted = text.replace(URI_USERINFO, `$1${REDACTED}@`);
  for (const credential of credentials) redacted = redacted.split(credential).join(REDACTED);
  return redacted;
}
