/**
 * The README's configuration reference is generated from the schema (`npm run docs:config`): it must say what the
 * schema says, cover every field, and pick up a field added with `.meta()` without anyone touching the generator.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  configExamples,
  REFERENCE_END,
  REFERENCE_START,
  referenceFields,
  renderReference,
  replaceReference,
} from '../../../lib/config/reference';

const README = join(__dirname, '..', '..', '..', 'README.md');

describe('the README configuration reference', () => {
  it('is the table the schema generates (run `npm run docs:config` after changing the schema)', () => {
    // Given the README
    const readme = readFileSync(README, 'utf8');

    // When the reference the schema renders is put between its markers, Then it has the markers and nothing changes
    expect(readme).toContain(REFERENCE_START);
    expect(replaceReference(readme, renderReference())).toBe(readme);
  });

  it('lists every field, kafka.partitions and the sink section included', () => {
    // Given the configuration schema
    // When its fields are listed
    const paths = referenceFields().map((field) => field.path);

    // Then kafka.partitions and the sink section's fields are among them
    expect(paths).toContain('kafka.partitions');
    expect(paths).toEqual(
      expect.arrayContaining([
        'sink.batchSize',
        'sink.provisionedPollers',
        'sink.mongo.maxPoolSize',
        'sink.network.vpcId',
      ]),
    );
  });

  it('has a description and an example for every field (the schema convention: `.meta({ description, examples })`)', () => {
    // Given the configuration schema
    // When the fields without a description, or (unless an object) without an example, are picked
    const undocumented = referenceFields()
      .filter((field) => !field.description || (field.values !== 'object' && field.examples.length === 0))
      .map((field) => field.path);

    // Then there are none
    expect(undocumented).toEqual([]);
  });
});

describe('renderReference', () => {
  it('shows a field added with .meta(): default, values, meaning and example from the schema alone', () => {
    // Given a schema with a required field, one with a default and bounds, and an optional enum in a section
    const schema = z.strictObject({
      name: z.string().meta({ description: 'What it is called.', examples: ['a|b'] }),
      retries: z
        .number()
        .int()
        .min(0)
        .max(5)
        .default(2)
        .meta({ description: 'How often.', examples: [3] }),
      section: z
        .strictObject({
          mode: z
            .enum(['fast', 'safe'])
            .optional()
            .meta({ description: 'Pick one.', examples: ['safe'] }),
        })
        .default({}),
    });

    // When its reference is rendered
    const table = renderReference(referenceFields(schema));

    // Then each field has a row with its default, values, meaning and example, a `|` escaped
    expect(table.split('\n')).toEqual([
      '| field | default | values | meaning | example |',
      '| --- | --- | --- | --- | --- |',
      '| `name` | (required) | string | What it is called. | `"a\\|b"` |',
      '| `retries` | `2` | integer 0–5 | How often. | `3` |',
      '| `section.mode` | unset | `"fast"` or `"safe"` | Pick one. | `"safe"` |',
    ]);
  });

  it('replaces only what lies between the markers', () => {
    // Given a README with the markers, and text before and after them
    const readme = `# Title\n${REFERENCE_START}\nold\n${REFERENCE_END}\nafter\n`;

    // When the reference is replaced, Then only what lies between the markers changes, and a text without markers is
    // refused
    expect(replaceReference(readme, 'new')).toBe(`# Title\n${REFERENCE_START}\n\nnew\n\n${REFERENCE_END}\nafter\n`);
    expect(() => replaceReference('# no markers', 'new')).toThrow(/no configuration reference markers/);
  });
});

describe('configExamples', () => {
  it("gives validation errors the schema's examples, and an element's for a list", () => {
    // Given the configuration schema
    // When its examples are collected
    const examples = configExamples();

    // Then each is the schema's: an enum's values, a list's element's, and null too for a nullable field
    expect(examples['kafka.compression']).toBe('"none" or "gzip"');
    expect(examples['iot.topicFilters[]']).toBe('"sensors/+/telemetry"');
    expect(examples['sink.provisionedPollers']).toBe('{"minimum":1,"maximum":3} or null');
  });
});
