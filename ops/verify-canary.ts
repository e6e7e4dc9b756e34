/**
 * The device id `verify`'s canary readings are published as; its readings stay in MongoDB like any device's. Its own
 * module so `verify --help` can name it without loading the checks.
 */
export const CANARY_DEVICE_ID = 'telemetry-ops-verify';
