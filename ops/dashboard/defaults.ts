/**
 * The dashboard's defaults, shared by `dashboard` and `local`, which serves it too. A module of its own, free of
 * dependencies, so the command definitions read them without loading the server.
 */
export const DASHBOARD_DEFAULTS = {
  /** Port it listens on. */
  port: 8080,
  /** Seconds: a device is late when its newest reading is older than this (and a reading a late arrival). */
  lateAfterSeconds: 60,
  /** Seconds: and silent when older than this. */
  silentAfterSeconds: 600,
  /** Seconds between the page's refreshes. */
  refreshSeconds: 5,
} as const;
