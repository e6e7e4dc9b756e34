/**
 * Everything the CLI prints goes through here: results on stdout (a table or text for people, one JSON document
 * with `--json` for scripts), notes and progress bars on stderr so they never mix with a result.
 */
import { Format, Presets, SingleBar } from 'cli-progress';

/** Where output goes; tests pass recorders. */
export interface Io {
  readonly stdout: { write(chunk: string): unknown; isTTY?: boolean };
  readonly stderr: { write(chunk: string): unknown; isTTY?: boolean };
}

export interface Progress {
  increment(by?: number): void;
  /** A total of 0 means "not known (yet)": a counter is shown instead of a bar. */
  setTotal(total: number): void;
  /** Sets the count, and the text shown after it (e.g. `| sent 120, acknowledged 118`). */
  update(value: number, detail?: string): void;
  stop(): void;
}

const silentProgress: Progress = { increment: () => {}, setTotal: () => {}, update: () => {}, stop: () => {} };

export class Output {
  public constructor(
    public readonly io: Io,
    /** Print results as JSON (for scripts) and no progress bars or notes. */
    public readonly json: boolean,
  ) {}

  /** Prints a command's result: `data` as JSON with `--json`, otherwise what `human` renders. */
  public result<T>(data: T, human: (data: T) => string): void {
    const text = this.json ? JSON.stringify(data, null, 2) : human(data);
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A note for people (stderr; silent with `--json`). */
  public note(message: string): void {
    if (!this.json) this.io.stderr.write(`${message}\n`);
  }

  /**
   * A progress bar on stderr when it is a terminal and output is for people; a no-op otherwise. While the total is
   * unknown (0) it shows a plain counter: a bar of `3/0 100%` would claim the work is done. `unit` follows the
   * figures (e.g. ` devices`, ` s`).
   */
  public progress(label: string, total: number, unit = ''): Progress {
    if (this.json || !this.io.stderr.isTTY) return silentProgress;
    const withBar = `${label} [{bar}] {value}/{total}${unit} {percentage}%{detail} | {duration_formatted}`;
    const counter = `${label} {value}${unit}{detail} | {duration_formatted}`;
    const bar = new SingleBar(
      {
        format: (options, params, payload) =>
          Format.Formatter({ ...options, format: params.total > 0 ? withBar : counter }, params, payload),
        stream: this.io.stderr as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { detail: '' });
    return {
      increment: (by = 1) => bar.increment(by),
      setTotal: (value) => bar.setTotal(value),
      update: (value, detail = '') => bar.update(value, { detail: detail && ` ${detail}` }),
      stop: () => bar.stop(),
    };
  }
}

export type Column<T> = readonly [header: string, value: (row: T) => unknown];

/** A plain-text table: one header line, columns padded to their widest cell. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, value]) => cell(value(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells
    .map((line) =>
      line
        .map((text, i) => text.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (value instanceof Date) return value.toISOString();
  return String(value).replace(/\s+/g, ' ');
}

/** `key: value` lines, keys aligned. */
export function fields(entries: Readonly<Record<string, unknown>>): string {
  const width = Math.max(...Object.keys(entries).map((key) => key.length));
  return Object.entries(entries)
    .map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${cell(value)}`)
    .join('\n');
}
