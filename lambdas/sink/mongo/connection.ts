import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { type Collection, type Db, MongoClient } from 'mongodb';
import * as z from 'zod';
import { ConfigurationError, describeError } from '../../shared/errors';
import type { LoggerPort } from '../../shared/observability';
import type { DeviceStateDocument, QuarantineDocument, ReadingDocument } from '../documents';
import { COLLECTIONS, type ReadingIdDocument, type SinkCollections } from './collections';
import { credentialsOf, redactCredentials } from './errors';

export interface MongoConnectionOptions {
  /** Secrets Manager id of `{"uri": "mongodb+srv://…"}`; or `uri` for local runs. */
  readonly uriSecretId?: string;
  readonly uri?: string;
  readonly database: string;
  /** Connections per container and per server; see README "Sizing connections". */
  readonly maxPoolSize: number;
  readonly timeSeries: boolean;
  readonly logger: LoggerPort;
  readonly appName?: string;
}

export interface ConnectedCollections extends SinkCollections {
  readonly readingIds: Collection<ReadingIdDocument>;
  readonly client: MongoClient;
}

const UriSecretSchema = z.object({
  uri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb+srv:// or mongodb:// URI'),
});

/**
 * One MongoClient per container, created on first use with timeouts that fit the invocation, and the indexes (or
 * the time-series collection) created once per container, idempotently. Connection strings never reach logs.
 */
export class MongoConnection {
  private connection?: Promise<ConnectedCollections>;
  /** The credentials of the URI in use, kept out of every message this connection's errors produce. */
  private credentials: string[] = [];

  public constructor(private readonly options: MongoConnectionOptions) {}

  /** The collections, connecting first if needed; concurrent callers share one connect. */
  public collections(remainingMs: number): Promise<ConnectedCollections> {
    if (!this.connection) {
      const connecting = this.connect(remainingMs);
      connecting.catch(() => {
        if (this.connection === connecting) this.connection = undefined;
      });
      this.connection = connecting;
    }
    return this.connection;
  }

  public async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection)
      await connection.then(
        (c) => c.client.close(),
        () => undefined,
      );
  }

  /** `text` (an error described for a log or a quarantine document) without the URI's credentials. */
  public redact(text: string): string {
    return redactCredentials(text, this.credentials);
  }

  private async connect(remainingMs: number): Promise<ConnectedCollections> {
    const uri = await this.uri();
    // Before the driver sees the URI: its parse errors quote the user name
    this.credentials = credentialsOf(uri);
    // Server selection and connecting must fail well inside the invocation, with time left to report the batch
    const selection = Math.round(Math.min(10_000, Math.max(1_000, remainingMs * 0.3)));
    const client = new MongoClient(uri, {
      appName: this.options.appName ?? 'telemetry-sink',
      maxPoolSize: this.options.maxPoolSize,
      minPoolSize: 0,
      maxIdleTimeMS: 60_000,
      serverSelectionTimeoutMS: selection,
      connectTimeoutMS: selection,
      socketTimeoutMS: Math.round(Math.max(2_000, remainingMs * 0.8)),
      retryWrites: true,
      writeConcern: { w: 'majority' },
    });
    // Connect explicitly: a client whose first connection fails closes its topology for good, and must not be kept
    try {
      await client.connect();
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
    const db = client.db(this.options.database);
    await this.prepare(db);
    return {
      client,
      readings: db.collection<ReadingDocument>(COLLECTIONS.readings),
      devices: db.collection<DeviceStateDocument>(COLLECTIONS.devices),
      quarantine: db.collection<QuarantineDocument>(COLLECTIONS.quarantine),
      readingIds: db.collection<ReadingIdDocument>(COLLECTIONS.readingIds),
    };
  }

  private async uri(): Promise<string> {
    if (this.options.uri) return this.options.uri;
    const secretId = this.options.uriSecretId ?? '';
    let raw: unknown;
    try {
      raw = await getSecret(secretId, { transform: 'json', maxAge: 300 });
    } catch (error) {
      throw new ConfigurationError(`Cannot read the MongoDB secret ${secretId}: ${(error as Error).name}`, {
        cause: error,
      });
    }
    const parsed = UriSecretSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ConfigurationError(
        `MongoDB secret ${secretId} must be JSON {"uri": "mongodb+srv://<user>:<password>@<cluster>/"}: uri ${parsed.error.issues[0]?.message ?? 'is missing'}`,
      );
    }
    return parsed.data.uri;
  }

  /**
   * Indexes (and the time-series collection) are created here, once per container, before the first write.
   * Creating an index that exists is a no-op; a failure is logged and does not block writes (queries get slower,
   * correctness does not depend on these indexes: `_id` carries the uniqueness).
   */
  private async prepare(db: Db): Promise<void> {
    try {
      if (this.options.timeSeries) {
        await db
          .createCollection(COLLECTIONS.readings, {
            timeseries: { timeField: 'ts', metaField: 'deviceId', granularity: 'seconds' },
          })
          .catch((error: { code?: number }) => {
            if (error.code !== 48) throw error; // NamespaceExists
          });
        await db.collection(COLLECTIONS.readings).createIndex({ eventId: 1 }, { name: 'eventId' });
      } else {
        await db.collection(COLLECTIONS.readings).createIndex({ deviceId: 1, ts: -1 }, { name: 'device_time' });
      }
      await db
        .collection(COLLECTIONS.quarantine)
        .createIndex({ reason: 1, firstFailedAt: -1 }, { name: 'reason_time' });
      // The dashboard's fleet overview counts and filters devices by freshness and pages them by last seen (ties by
      // id): without this index each refresh reads the whole collection and sorts it (ops/dashboard/queries.ts)
      await db.collection(COLLECTIONS.devices).createIndex({ ts: -1, _id: -1 }, { name: 'last_seen' });
    } catch (error) {
      this.options.logger.warn('Could not create MongoDB indexes; will try again on the next cold start', {
        error: this.redact(describeError(error)),
      });
    }
  }
}
