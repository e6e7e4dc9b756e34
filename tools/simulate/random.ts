/**
 * The simulator's only source of randomness. Every stream is derived from the run's seed and a name (a device id,
 * "faults"…), so a seed replays a run, and one device's numbers do not depend on how many other devices there are.
 */

/** Uniform numbers in [0, 1). */
export type Random = () => number;

/** A mulberry32 generator seeded from a hash of `parts`: small, fast and plenty for simulated sensors. */
export function seededRandom(...parts: readonly (string | number)[]): Random {
  let state = hash32(parts.join('\u0000'));
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A standard normal draw (Box–Muller). Always consumes exactly two uniforms, so streams stay aligned. */
export function gaussian(random: Random): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** FNV-1a over UTF-16 units, then murmur3's finalizer so that near-identical names land far apart. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
