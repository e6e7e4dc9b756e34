/**
 * The layer rules (issue 12), checked in CI by `npm run check:layers`:
 *
 *   contracts/  what crosses a boundary (envelope, headers, failure envelope, metric names, function environments):
 *               zod and Node only
 *   lambdas/    the deployed functions: contracts and their own code, never the CDK side, the CLI or the tools
 *   lib/        the CDK app: contracts, never Lambda internals, the CLI or the tools
 *   ops/        the operator CLI against a deployed pipeline: never the local tools
 *   tools/      the pipeline on one machine (local, simulate, the librdkafka mock): may use everything above
 *   bin/        entries, the only place ops/ and tools/ are joined
 *   test/       imports anything; nothing imports it
 *
 * and no import cycles anywhere. A type-only import counts too: it is still knowledge of the other layer.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles hide which module owns what and break lazy loading.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'contracts-are-pure',
      severity: 'error',
      comment: 'contracts/ is zod and Node only, so every side can import it without pulling anything else in.',
      from: { path: '^contracts/' },
      to: { pathNot: ['^contracts/', '^node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'lambdas-stand-alone',
      severity: 'error',
      comment:
        'Lambda code is bundled alone: it imports contracts and its own code, never the CDK side, the CLI or the tools.',
      from: { path: '^lambdas/' },
      to: {
        path: [
          '^lib/',
          '^ops/',
          '^tools/',
          '^bin/',
          '^test/',
          '^node_modules/(aws-cdk-lib|constructs|cdk-nag|cdk-monitoring-constructs)/',
        ],
      },
    },
    {
      name: 'cdk-side-knows-only-contracts',
      severity: 'error',
      comment: 'The CDK app knows the functions by their contracts (environment, metric names), not their code.',
      from: { path: '^lib/' },
      to: { path: ['^lambdas/', '^ops/', '^tools/', '^bin/', '^test/'] },
    },
    {
      name: 'operator-cli-without-local-tools',
      severity: 'error',
      comment: 'The operator CLI talks to a deployed pipeline; the tools that run it on one machine join it in bin/.',
      from: { path: '^ops/' },
      to: { path: ['^tools/', '^bin/', '^test/'] },
    },
    {
      name: 'operator-cli-uses-only-config-and-topics-of-lib',
      severity: 'error',
      comment: 'The operator CLI reads the configuration and the device topic rules from lib/, nothing of the CDK app.',
      from: { path: '^ops/' },
      to: { path: '^lib/', pathNot: ['^lib/config/', '^lib/ingest/rule-sql\\.ts$', '^lib/monitor/thresholds\\.ts$'] },
    },
    {
      name: 'operator-cli-loads-no-cdk',
      severity: 'error',
      comment:
        'No operator command loads the CDK. ops/ may import only these parts of lib/ (rule above), lambdas/ and contracts/ (rules above and below), so none of them may import a CDK package: that closes every path.',
      from: { path: ['^ops/', '^lib/config/', '^lib/ingest/rule-sql\\.ts$', '^lib/monitor/thresholds\\.ts$'] },
      to: { path: '^node_modules/(aws-cdk-lib|constructs|cdk-nag|cdk-monitoring-constructs)/' },
    },
    {
      name: 'cli-part-of-lib-stands-alone',
      severity: 'error',
      comment:
        'The parts of lib/ the operator CLI imports import no other part of lib/, so they cannot bring the CDK in by way of it.',
      from: { path: ['^lib/config/', '^lib/ingest/rule-sql\\.ts$', '^lib/monitor/thresholds\\.ts$'] },
      to: { path: '^lib/', pathNot: ['^lib/config/', '^lib/ingest/rule-sql\\.ts$', '^lib/monitor/thresholds\\.ts$'] },
    },
    {
      name: 'tools-are-not-tests',
      severity: 'error',
      from: { path: '^tools/' },
      to: { path: ['^bin/', '^test/'] },
    },
    {
      name: 'nothing-imports-tests',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^cdk\\.out/'] },
    tsPreCompilationDeps: true,
    parser: 'swc',
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.d.ts', '.js', '.cjs', '.mjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
