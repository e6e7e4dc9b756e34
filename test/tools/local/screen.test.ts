/**
 * The live screen of `local`: a counters line that says what it counts (subsets read as subsets, duplicates named),
 * redrawn in place without anything else running into it; and the accounting behind `--duration`'s exit status.
 */
import { describe, expect, it } from 'vitest';
import type { FailureEnvelope } from '../../../contracts/failure';
import { accountFor } from '../../../tools/local/accounting';
import type { LocalCounters } from '../../../tools/local/pipeline';
import { countersLine, type ServeSummary, StatusLine, showSummary } from '../../../tools/local/screen';
import { localSettings } from '../../../tools/local/settings';
import type { SimulationSummary } from '../../../tools/simulate';
import { Recorder } from '../../helpers/cli';
import { devConfig } from '../../helpers/synth';

const counters = (overrides: Partial<LocalCounters> = {}): LocalCounters => ({
  published: 8,
  received: 6,
  unrouted: 2,
  forwarded: 5,
  redelivered: 0,
  lateAcknowledgements: 0,
  stored: 5,
  sinkRetries: 0,
  deadLettered: { ingest: 1, sink: 0 },
  backlog: 0,
  ...overrides,
});

describe('countersLine', () => {
  it('shows unrouted publishes as part of what was published, and splits stored into new, duplicates, quarantined', () => {
    // Given counters with unrouted publishes and a store with new readings, duplicates and quarantined records
    // When the counters line is drawn
    const line = countersLine(counters(), { readings: 3, quarantined: 1 }, { sent: 9, acknowledged: 8 });

    // Then published counts the unrouted ones, and stored is split three ways
    expect(line).toBe(
      'fleet sent 9, acknowledged 8 | published 8 (6 queued, 2 on topics no rule selects) | forwarded 5 | stored 3 new + 1 duplicates + 1 quarantined | dead-lettered 1 | backlog 0 | retried 0',
    );
  });
});

describe('StatusLine on a terminal', () => {
  it('redraws the counters in place, and clears them before a warning so that the two never share a line', () => {
    // Given the status line on a terminal
    const terminal = new Recorder(true);
    const status = new StatusLine(terminal, false);

    // When counters are shown, a warning comes, and counters again
    status.show('published 1');
    status.show('published 2');
    status.warn('the sink was invoked again');
    status.show('published 3');

    // Then each redraws the line, and the warning has a line of its own
    expect(terminal.text).toBe(
      '\r\x1b[2Kpublished 1\r\x1b[2Kpublished 2\r\x1b[2Kwarning: the sink was invoked again\n\r\x1b[2Kpublished 3',
    );
  });
  it('cuts the counters line to the terminal width, so that erasing it erases all of it', () => {
    // Given a terminal 12 columns wide
    const terminal = Object.assign(new Recorder(true), { columns: 12 });
    const status = new StatusLine(terminal, false);

    // When a longer counters line is shown
    status.show('published 120 | forwarded 118');

    // Then it is cut to the width
    expect(terminal.text).toBe('\r\x1b[2Kpublished …');
  });
});

describe('accountFor', () => {
  const fleet = (confirmed: boolean[], malformed = 0): SimulationSummary =>
    ({
      record: [
        {
          deviceId: 'd1',
          topic: 'sensors/d1/telemetry',
          readings: confirmed.map((ok, seq) => ({ seq, ts: seq, eventId: `e${seq}`, readings: {}, confirmed: ok })),
          malformed: Array.from({ length: malformed }, () => ({
            variant: 'truncated_json',
            payload: '{',
            confirmed: true,
          })),
          duplicates: [],
          outOfOrder: [],
        },
      ],
    }) as unknown as SimulationSummary;
  const parked = (eventId: string | null) => ({ eventId }) as FailureEnvelope;

  it('is complete when each acknowledged reading is stored or parked and each malformed message is parked', async () => {
    // Given readings stored or parked, a malformed message parked, and one reading never acknowledged
    // When the run is accounted for
    const result = await accountFor({
      counters: counters(),
      droppedFromIngestQueue: 0,
      failures: [parked('e1'), parked(null)],
      fleet: fleet([true, true, false], 1),
      storedIds: async () => new Set(['e0']),
    });

    // Then it is complete
    expect(result).toEqual({ complete: true, problems: [] });
  });

  it('names what is missing: a reading neither stored nor parked, a malformed message not parked, a dropped message, a record the sink never handled', async () => {
    // Given a reading neither stored nor parked, an unparked malformed message, messages left in the queue and records the sink never handled
    // When the run is accounted for
    const result = await accountFor({
      counters: counters({ forwarded: 7 }),
      droppedFromIngestQueue: 2,
      failures: [],
      fleet: fleet([true, true], 1),
      storedIds: async () => new Set(['e0']),
    });

    // Then it is incomplete, naming each
    expect(result.complete).toBe(false);
    expect(result.problems).toEqual([
      '2 messages were still in the ingest queue, neither forwarded nor parked',
      '2 records forwarded to Kafka were neither acknowledged by the sink nor dead-lettered',
      '1 acknowledged readings are neither stored nor in a failure store: e1',
      '1 acknowledged malformed messages, but only 0 of them in a failure store',
    ]);
  });

  it('is not complete when --demo was given but the fleet left no summary (it stopped early): nothing was checked', async () => {
    // Given a --demo run whose fleet died, and a pipeline that otherwise handled everything it took
    const input = {
      counters: counters(),
      droppedFromIngestQueue: 0,
      failures: [],
      storedIds: async () => new Set<string>(),
    };

    // When it is accounted for, with and without --demo
    const demo = await accountFor({ ...input, demo: true });
    const withoutDemo = await accountFor(input);

    // Then the demo run fails, naming why; a run without the fleet has nothing of it to check
    expect(demo).toEqual({
      complete: false,
      problems: [
        'the demo fleet (--demo) stopped without its record of what it sent (see its error above): its readings cannot be accounted for',
      ],
    });
    expect(withoutDemo).toEqual({ complete: true, problems: [] });
  });
});

describe('showSummary', () => {
  it('names each count, the duplicates collapsed, the failures by reason, and what Kafka still held at Ctrl-C', () => {
    // Given a run's summary with 21 dead letters and records still in Kafka
    const parked = Array.from({ length: 21 }, (_, i) => ({
      store: 'ingest-dlq',
      reason: 'not_json',
      deviceId: `d${i}`,
      error: 'Unexpected end of JSON input',
    })) as FailureEnvelope[];
    const summary: ServeSummary = {
      store: 'in-memory',
      counters: counters({ published: 30, received: 30, unrouted: 0, forwarded: 9, stored: 7 }),
      stored: { readings: 5, duplicates: 2, quarantined: 0 },
      droppedFromIngestQueue: 0,
      deadLetteredByReason: { 'ingest-dlq not_json': 21 },
      ingestDeadLetters: parked,
      sinkDeadLetters: [],
      quarantine: [],
    };

    // When it is shown
    const text = showSummary(summary, localSettings(devConfig()));

    // Then each count is named, the dead letters by reason and the first 20 of them, with no accounting line
    expect(text).toContain('published 30 (30 queued, 0 on topics no rule selects), forwarded 9, sink acknowledged 7');
    expect(text).toContain('stored (in-memory): 5 new readings, 2 duplicates collapsed, 0 quarantined');
    expect(text).toContain('failures by reason: 21 ingest-dlq not_json');
    expect(text).toContain('in Kafka: 2 records forwarded but not through the sink yet');
    expect(text).toContain(
      'dead letters (first 20 of 21; all of them with --json, or `failures list --local` while it runs)',
    );
    expect(text).not.toContain('accounted');
  });
});
