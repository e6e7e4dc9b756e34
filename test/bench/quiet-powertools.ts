/**
 * Imported first by benchmark scripts that build handlers from source: Powertools reads these when its module
 * loads, and without them every invocation would print EMF metrics and INFO logs (vitest.config.mts sets the same
 * for tests).
 */
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
});
