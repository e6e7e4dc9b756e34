/** In-memory stand-ins for the logger and metrics ports, recording what the code under test emitted. */
import type { LogFields, LoggerPort, MetricsPort } from '../../lambdas/shared/observability';

export class RecordingLogger implements LoggerPort {
  public readonly entries: { level: string; message: string; extra: LogFields[] }[] = [];
  public debug(message: string, ...extra: LogFields[]) {
    this.entries.push({ level: 'debug', message, extra });
  }
  public info(message: string, ...extra: LogFields[]) {
    this.entries.push({ level: 'info', message, extra });
  }
  public warn(message: string, ...extra: LogFields[]) {
    this.entries.push({ level: 'warn', message, extra });
  }
  public error(message: string, ...extra: LogFields[]) {
    this.entries.push({ level: 'error', message, extra });
  }
  public at(level: string) {
    return this.entries.filter((entry) => entry.level === level);
  }
}

export class RecordingMetrics implements MetricsPort {
  public readonly values = new Map<string, number[]>();
  public addMetric(name: string, _unit: string, value: number) {
    this.values.set(name, [...(this.values.get(name) ?? []), value]);
  }
  /** The single value of a metric; fails the test if it was emitted more or less than once. */
  public single(name: string): number {
    const values = this.values.get(name) ?? [];
    if (values.length !== 1) throw new Error(`metric ${name} emitted ${values.length} times, expected once`);
    return values[0] as number;
  }
}
