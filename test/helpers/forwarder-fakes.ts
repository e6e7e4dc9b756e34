/** In-memory fakes of the forwarder core's ports: a publisher and a quarantine that record what they were given. */
import type { OutboundMessage, Publisher, Quarantine, QuarantineEntry } from '../../lambdas/forward/ports';

export class FakePublisher implements Publisher {
  public readonly calls: OutboundMessage[][] = [];
  public constructor(private readonly fail: (message: OutboundMessage) => boolean = () => false) {}
  public async publish(messages: readonly OutboundMessage[]) {
    this.calls.push([...messages]);
    const failed = messages.filter(this.fail);
    return { failedIds: failed.map((m) => m.id), errors: failed.length ? ['KafkaJSError: broker down'] : [] };
  }
}

export class FakeQuarantine implements Quarantine {
  public readonly entries: QuarantineEntry[] = [];
  public constructor(private readonly reject: (entry: QuarantineEntry) => boolean = () => false) {}
  public async quarantine(entries: readonly QuarantineEntry[]) {
    const rejected = entries.filter(this.reject);
    this.entries.push(...entries.filter((entry) => !rejected.includes(entry)));
    return { failedIds: rejected.map((entry) => entry.id) };
  }
}
