/**
 * Configurations the variant matrix synthesizes, and the extreme values they use. Limits come from the schema
 * (`lib/config/schema.ts`), which follows AWS's documented limits.
 */

/** The most levels (7 slashes) and bytes (256) an IoT topic filter may have; `i` makes each one distinct. */
export function longestTopicFilter(i: number, length = 256): string {
  const head = `t${String(i).padStart(2, '0')}/+/a/b/c/d/e/`;
  return head + 'x'.repeat(length - head.length);
}

/** The config's maximum: 20 topic filters, each as long as IoT allows. */
export const LONGEST_TOPIC_FILTERS: readonly string[] = Array.from({ length: 20 }, (_, i) => longestTopicFilter(i));
