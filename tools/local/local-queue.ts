/**
 * An SQS standard queue in memory, with the behaviour the pipeline depends on: a received message stays invisible
 * for the visibility timeout and comes back unless deleted; every receive counts; a message received more than
 * `maxReceiveCount` times moves to the dead-letter queue instead of being delivered again (SQS's redrive policy).
 */
import { randomUUID } from 'node:crypto';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';

export type MessageAttributes = Record<string, { DataType: string; StringValue?: string }>;

interface Stored {
  readonly id: string;
  readonly body: string;
  readonly attributes: MessageAttributes;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** The receipt handle of the latest receive: it deletes the message until the next receive. */
  receipt: string | undefined;
  visibleAt: number;
  /** Deleted while visible again: skipped by `receive`. */
  deleted: boolean;
}

/** A message as a consumer receives it: what the SQS event source turns into a Lambda record. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: MessageAttributes;
  readonly sentAt: number;
  readonly receiveCount: number;
  readonly firstReceivedAt: number;
}

export interface LocalQueueOptions {
  readonly name: string;
  /** @default 30 s (SQS's default) */
  readonly visibilityTimeoutMs?: number;
  /** Where messages go after `maxReceiveCount` receives. @default none: they come back forever */
  readonly redrive?: { readonly deadLetterQueue: LocalQueue; readonly maxReceiveCount: number };
  readonly now?: () => number;
}

interface Waiter {
  readonly minimum: number;
  readonly resolve: () => void;
}

export class LocalQueue {
  public readonly name: string;
  private readonly visibilityTimeoutMs: number;
  private readonly now: () => number;
  /** Visible messages, oldest first; `head` skips what was taken, without shifting the array each time. */
  private visible: Stored[] = [];
  private head = 0;
  private readonly inFlight = new Map<string, Stored>();
  /** Every message in the queue, visible or in flight, by id. */
  private readonly byId = new Map<string, Stored>();
  /** Messages in `visible` deleted since they became visible again. */
  private deletedVisible = 0;
  /** Earliest time an in-flight message becomes visible again (a lower bound). */
  private nextExpiry = Number.POSITIVE_INFINITY;
  private readonly waiters = new Set<Waiter>();
  /** Messages moved to the dead-letter queue. */
  private moved = 0;

  public constructor(private readonly options: LocalQueueOptions) {
    this.name = options.name;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Adds a message; returns its id. */
  public send(body: string, attributes: MessageAttributes = {}): string {
    const id = randomUUID();
    const now = this.now();
    this.enqueue({
      id,
      body,
      attributes,
      sentAt: now,
      receiveCount: 0,
      firstReceivedAt: undefined,
      receipt: undefined,
      visibleAt: now,
      deleted: false,
    });
    return id;
  }

  /**
   * Receives up to `max` visible messages and hides them for the visibility timeout. A message past the redrive
   * policy's `maxReceiveCount` moves to the dead-letter queue instead, as SQS does on the receive that would exceed it.
   */
  public receive(max: number): ReceivedMessage[] {
    this.expire();
    const now = this.now();
    const received: ReceivedMessage[] = [];
    while (received.length < max && this.head < this.visible.length) {
      const message = this.visible[this.head++] as Stored;
      if (message.deleted) {
        this.deletedVisible--;
        continue;
      }
      const redrive = this.options.redrive;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        this.byId.delete(message.id);
        redrive.deadLetterQueue.adopt(message);
        this.moved++;
        continue;
      }
      message.receiveCount++;
      message.firstReceivedAt ??= now;
      message.receipt = `${message.id}#${message.receiveCount}`;
      message.visibleAt = now + this.visibilityTimeoutMs;
      this.nextExpiry = Math.min(this.nextExpiry, message.visibleAt);
      this.inFlight.set(message.id, message);
      received.push({
        messageId: message.id,
        receiptHandle: message.receipt,
        body: message.body,
        attributes: message.attributes,
        sentAt: message.sentAt,
        receiveCount: message.receiveCount,
        firstReceivedAt: message.firstReceivedAt,
      });
    }
    this.compact();
    return received;
  }

  /**
   * Deletes a received message. As in SQS, the receipt of the latest receive deletes it even after its visibility
   * timeout ended, as long as nobody received it again; a stale receipt (it was received again since) deletes nothing.
   */
  public delete(receiptHandle: string): boolean {
    const id = receiptHandle.slice(0, receiptHandle.lastIndexOf('#'));
    const message = this.byId.get(id);
    if (!message || message.receipt !== receiptHandle) return false;
    this.byId.delete(id);
    if (!this.inFlight.delete(id)) {
      // Visible again: left in place and skipped, rather than spliced out of the middle of `visible`
      message.deleted = true;
      this.deletedVisible++;
    }
    return true;
  }

  /** Messages that can be received now. */
  public get visibleCount(): number {
    this.expire();
    return this.visible.length - this.head - this.deletedVisible;
  }

  /** Messages received and neither deleted nor visible again yet. */
  public get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Messages this queue moved to its dead-letter queue. */
  public get movedCount(): number {
    return this.moved;
  }

  /**
   * Resolves once at least `minimum` messages are visible, or after `timeoutMs`, or when `signal` aborts, whichever
   * comes first. In-flight messages whose visibility timeout ends meanwhile count.
   */
  public async waitForVisible(minimum: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const until = this.now() + timeoutMs;
    while (!signal?.aborted && this.visibleCount < minimum) {
      const left = until - this.now();
      if (left <= 0) return;
      const wait = Math.min(left, Math.max(1, this.nextExpiry - this.now()));
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const waiter: Waiter = { minimum, resolve: done };
        const timer = setTimeout(done, wait);
        this.waiters.add(waiter);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Every message in the queue, as `ReceiveMessage` returns them (for dead-letter queues: what an operator reads). */
  public messages(): Message[] {
    this.expire();
    const visible = this.visible.slice(this.head).filter((message) => !message.deleted);
    return [...visible, ...this.inFlight.values()].map((message) => ({
      MessageId: message.id,
      Body: message.body,
      Attributes: {
        SentTimestamp: String(message.sentAt),
        ApproximateReceiveCount: String(message.receiveCount),
        ...(message.firstReceivedAt === undefined
          ? {}
          : { ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt) }),
      },
      MessageAttributes: message.attributes as Record<string, MessageAttributeValue>,
    }));
  }

  /** Takes a message over from the queue whose redrive policy points here, keeping its id and history. */
  private adopt(message: Stored): void {
    this.enqueue({ ...message, receipt: undefined, visibleAt: this.now() });
  }

  private enqueue(message: Stored): void {
    this.visible.push(message);
    this.byId.set(message.id, message);
    this.notify();
  }

  /** Makes in-flight messages whose visibility timeout ended visible again. */
  private expire(): void {
    const now = this.now();
    if (now < this.nextExpiry) return;
    let next = Number.POSITIVE_INFINITY;
    let returned = false;
    for (const [id, message] of this.inFlight) {
      if (message.visibleAt <= now) {
        // The receipt stays valid until the next receive
        this.inFlight.delete(id);
        this.visible.push(message);
        returned = true;
      } else next = Math.min(next, message.visibleAt);
    }
    this.nextExpiry = next;
    if (returned) this.notify();
  }

  private notify(): void {
    if (this.waiters.size === 0) return;
    const count = this.visible.length - this.head - this.deletedVisible;
    for (const waiter of [...this.waiters]) if (count >= waiter.minimum) waiter.resolve();
  }

  /** Drops the consumed prefix of `visible` once it is large, so memory follows what is queued. */
  private compact(): void {
    if (this.head > 1_024 && this.head * 2 > this.visible.length) {
      this.visible = this.visible.slice(this.head);
      this.head = 0;
    }
  }
}
