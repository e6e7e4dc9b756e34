/**
 * The JSON the dashboard's API answers, shared by the server (`api.ts`, with `Date`s) and the page (`page/main.ts`,
 * which receives them as ISO strings): a rename fails to compile on the other side. No imports, so the page's
 * browser build can include it.
 */

export type FreshnessState = 'fresh' | 'late' | 'silent';

export interface ConfigAnswer {
  readonly refreshMs: number;
  readonly freshness: { readonly lateAfterMs: number; readonly silentAfterMs: number };
  readonly maxPoints: number;
  readonly ranges: Readonly<Record<'hour' | 'day' | 'week', number>>;
}

export interface DeviceRow<T = string> {
  readonly deviceId: string;
  /** Device time of the newest reading. */
  readonly lastSeen: T;
  readonly receivedAt: T;
  readonly seq: number;
  readonly freshness: FreshnessState;
  readonly readings: Readonly<Record<string, number>>;
}

export interface FleetAnswer<T = string> {
  readonly now: T;
  readonly counts: Readonly<Record<'all' | FreshnessState, number>>;
  /** Devices matching the search and freshness filter. */
  readonly matched: number;
  readonly page: number;
  readonly pageSize: number;
  readonly devices: readonly (DeviceRow<T> & { readonly count: number })[];
}

export interface BucketSize {
  readonly unit: string;
  readonly binSize: number;
  readonly ms: number;
}

/** Per reading kind, one value per bucket start of `times`; `null` where the bucket holds no reading. */
export interface SeriesAnswer<T = string> {
  readonly now: T;
  readonly from: T;
  readonly to: T;
  readonly bucket: BucketSize;
  /** Bucket starts, epoch ms. */
  readonly times: readonly number[];
  readonly series: readonly {
    readonly kind: string;
    readonly min: readonly (number | null)[];
    readonly avg: readonly (number | null)[];
    readonly max: readonly (number | null)[];
    readonly count: readonly number[];
  }[];
}

export interface DeviceAnswer<T = string> extends SeriesAnswer<T> {
  readonly device: DeviceRow<T>;
}

export interface QualityAnswer<T = string> {
  readonly now: T;
  readonly from: T;
  readonly to: T;
  readonly bucket: BucketSize;
  /**
   * The sink's quarantine collection per reason: records the sink can never store. Messages rejected before Kafka
   * (not JSON, schema) are in the ingest dead-letter queue, which `npx telemetry-ops failures list` reads.
   */
  readonly reasons: readonly { readonly reason: string; readonly count: number; readonly last: T }[];
  /** The same per bucket of first failure. */
  readonly quarantineOverTime: {
    readonly times: readonly number[];
    readonly series: readonly { readonly reason: string; readonly counts: readonly number[] }[];
  };
  readonly gaps: readonly {
    readonly deviceId: string;
    readonly first: number;
    readonly last: number;
    /** `seq` numbers from `first` to `last` with no reading stored. */
    readonly missing: number;
    /**
     * Extra readings stored under a `seq` already stored: a resend with another `ts` has another eventId, so the sink
     * stores it as a reading of its own (an identical resend it stores once, and is not counted).
     */
    readonly resent: number;
  }[];
  readonly late: {
    readonly afterMs: number;
    readonly devices: readonly { readonly deviceId: string; readonly count: number; readonly maxDelayMs: number }[];
  };
}

/** What every 4xx/5xx answer holds. */
export interface ErrorAnswer {
  readonly error: string;
  readonly problems?: readonly string[];
}
