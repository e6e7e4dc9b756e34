/**
 * Where a CPU profile's time went (a script): `npm run bench:profile -- <file.cpuprofile> [--top 25]
 * [--ignore-idle]`. Reads a profile written by `node --cpu-prof` and prints
 * - self time per group ({@link GROUPS}: JSON.parse, zod, the unsafe-key scan, kafkajs encoding, crc32, logging,
 *   metrics, …), each function counted in the first group that matches it;
 * - the same with Node's internals and native code (Buffer, streams, builtins such as JSON.parse) charged to their
 *   nearest caller in a package or in our code: which part of the pipeline made that work;
 * - the functions with the most self time, with their group.
 * `--windows`: only the samples taken within these spans of `process.hrtime` (µs; the profile's clock), as the
 * benchmarks print them with `--profile-windows`: the measured work without start-up and data generation.
 * Shares are of the profile's busy time: idle time (and `(program)`, time outside JavaScript) are shown apart.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly startTime: number;
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A group: a function belongs to it when `test` says so. Order matters: the first match wins. */
interface Group {
  readonly name: string;
  readonly test: (frame: CallFrame) => boolean;
}

const inPackage = (frame: CallFrame, name: string) => frame.url.includes(`/node_modules/${name}/`);
const inFile = (frame: CallFrame, path: string) => frame.url.includes(path);

/** The groups the issue asks to tell apart, then everything else by package or folder. */
const GROUPS: readonly Group[] = [
  { name: 'garbage collection', test: (f) => f.functionName === '(garbage collector)' },
  { name: 'JSON.parse', test: (f) => f.functionName === 'parse' && f.url === '' },
  { name: 'JSON.stringify', test: (f) => f.functionName === 'stringify' && f.url === '' },
  { name: 'unsafe-key scan', test: (f) => f.functionName === 'findUnsafeKey' },
  { name: 'zod', test: (f) => inPackage(f, 'zod') },
  { name: 'kafkajs crc32', test: (f) => inPackage(f, 'kafkajs') && /crc32/i.test(f.url) },
  {
    name: 'kafkajs encode',
    test: (f) => inPackage(f, 'kafkajs') && /protocol\/(encoder|recordBatch|requests)/.test(f.url),
  },
  {
    name: 'kafkajs decode',
    test: (f) => inPackage(f, 'kafkajs') && /protocol\/(decoder|requests\/.*response)/.test(f.url),
  },
  { name: 'kafkajs other', test: (f) => inPackage(f, 'kafkajs') },
  { name: 'logging (Powertools logger)', test: (f) => inPackage(f, '@aws-lambda-powertools/logger') },
  { name: 'metrics (Powertools metrics)', test: (f) => inPackage(f, '@aws-lambda-powertools/metrics') },
  { name: 'Powertools other', test: (f) => f.url.includes('/node_modules/@aws-lambda-powertools/') },
  { name: 'crypto (hashes, uuid)', test: (f) => /^node:crypto|internal\/crypto/.test(f.url) },
  { name: 'Buffer / base64 / UTF-8', test: (f) => /^node:buffer|internal\/buffer|internal\/util/.test(f.url) },
  { name: 'net / streams / timers (Node)', test: (f) => /^node:|^internal\//.test(f.url) },
  { name: 'tsx (loader)', test: (f) => inPackage(f, 'tsx') || inPackage(f, 'esbuild') },
  {
    name: 'pipeline: envelope',
    test: (f) => inFile(f, '/lambdas/shared/envelope') || inFile(f, '/contracts/envelope'),
  },
  { name: 'pipeline: forwarder', test: (f) => inFile(f, '/lambdas/forward/') },
  { name: 'pipeline: sink', test: (f) => inFile(f, '/lambdas/sink/') },
  { name: 'pipeline: shared', test: (f) => inFile(f, '/lambdas/shared/') || inFile(f, '/contracts/') },
  { name: 'benchmark harness', test: (f) => inFile(f, '/test/') },
  { name: 'other JavaScript', test: (f) => f.url !== '' },
  { name: 'other native / builtins', test: () => true },
];

const IDLE = new Set(['(idle)', '(program)', '(root)']);

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

function main(): void {
  const file = process.argv[2];
  if (!file || file.startsWith('--')) throw new Error('usage: profile-summary <file.cpuprofile> [--top 25]');
  const top = Number(option('top', '25'));
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));

  // Self time: each sample's delta goes to the node sampled
  const windows = option('windows', '')
    .split(',')
    .filter(Boolean)
    .map((span) => span.split('-').map(Number) as [number, number]);
  const counted = (at: number) => windows.length === 0 || windows.some(([from, to]) => at >= from && at <= to);
  const selfMicros = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (counted(at)) selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
  });

  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const isNodeOrNative = (frame: CallFrame) =>
    frame.functionName !== '(garbage collector)' &&
    (frame.url === '' || frame.url.startsWith('node:') || frame.url.startsWith('internal/'));
  /** The node's own frame, or that of its nearest ancestor outside Node's internals and native code. */
  const chargedFrame = (id: number): CallFrame | undefined => {
    let current: number | undefined = id;
    while (current !== undefined) {
      const frame = byId.get(current)?.callFrame;
      if (frame && !isNodeOrNative(frame) && !IDLE.has(frame.functionName)) return frame;
      current = parent.get(current);
    }
    return byId.get(id)?.callFrame;
  };

  const functions = new Map<string, { frame: CallFrame; micros: number }>();
  const charged = new Map<string, number>();
  const idle = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (IDLE.has(frame.functionName)) {
      idle.set(frame.functionName, (idle.get(frame.functionName) ?? 0) + micros);
      continue;
    }
    const payer = chargedFrame(id) ?? frame;
    const payerGroup = GROUPS.find((group) => group.test(payer))?.name ?? '?';
    charged.set(payerGroup, (charged.get(payerGroup) ?? 0) + micros);
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}`;
    const entry = functions.get(key) ?? { frame, micros: 0 };
    entry.micros += micros;
    functions.set(key, entry);
  }
  const busy = [...functions.values()].reduce((sum, f) => sum + f.micros, 0);
  const groupOf = (frame: CallFrame) => GROUPS.find((group) => group.test(frame))?.name ?? '?';
  const groups = new Map<string, number>();
  for (const { frame, micros } of functions.values())
    groups.set(groupOf(frame), (groups.get(groupOf(frame)) ?? 0) + micros);

  const ms = (micros: number) => (micros / 1000).toFixed(0);
  const share = (micros: number) => `${((100 * micros) / busy).toFixed(1)}%`;
  console.log(
    `${file}${windows.length ? ` (${windows.length} windows)` : ''}: ${ms(busy)} ms busy; not in JavaScript: ${[...idle].map(([name, micros]) => `${name} ${ms(micros)} ms`).join(', ')}\n`,
  );
  console.log('| group | self ms | share of busy |');
  console.log('|---|---:|---:|');
  for (const [name, micros] of [...groups].sort((a, b) => b[1] - a[1]))
    console.log(`| ${name} | ${ms(micros)} | ${share(micros)} |`);
  console.log("\n| group, Node's internals and native code charged to their caller | ms | share of busy |");
  console.log('|---|---:|---:|');
  for (const [name, micros] of [...charged].sort((a, b) => b[1] - a[1]))
    console.log(`| ${name} | ${ms(micros)} | ${share(micros)} |`);
  console.log(`\n| function (top ${top} by self time) | where | group | self ms | share |`);
  console.log('|---|---|---|---:|---:|');
  const where = (frame: CallFrame) => {
    if (!frame.url) return '(native)';
    const path = frame.url.replace(/^file:\/\//, '');
    const shown = path.includes('/node_modules/')
      ? path.slice(path.lastIndexOf('/node_modules/') + 14)
      : relative(process.cwd(), path);
    return `${shown}:${frame.lineNumber + 1}`;
  };
  for (const { frame, micros } of [...functions.values()].sort((a, b) => b.micros - a.micros).slice(0, top))
    console.log(
      `| ${frame.functionName || '(anonymous)'} | ${where(frame)} | ${groupOf(frame)} | ${ms(micros)} | ${share(micros)} |`,
    );
}

main();
