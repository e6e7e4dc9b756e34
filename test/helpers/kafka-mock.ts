/** The librdkafka mock cluster moved to product code (`telemetry-ops local` runs it); tests keep importing it here. */
export * from '../../tools/kafka-mock/cluster';
