/** Progress on a terminal says only what is known: a bar against a total, a plain counter while there is none. */
import { describe, expect, it } from 'vitest';
import { Output } from '../../ops/output';

class Terminal {
  public text = '';
  public readonly isTTY = true;
  public write(chunk: string) {
    this.text += chunk;
    return true;
  }
  /** The last state of the progress line: cli-progress redraws it from the first column. */
  public get line(): string {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are what is read here
    const redraws = this.text.replace(/\u001b\[\d*G/g, '\r').replace(/\u001b(\[[0-9;?]*[A-Za-z]|[78])/g, '');
    return (
      redraws
        .split(/[\r\n]/)
        .filter(Boolean)
        .at(-1) ?? ''
    );
  }
}

describe('Output.progress', () => {
  it('counts without a bar or a percentage while the total is unknown', () => {
    // Given a progress line on a terminal with no total
    const stderr = new Terminal();
    const progress = new Output({ stdout: new Terminal(), stderr }, false).progress('Describing groups', 0);

    // When it counts three and stops
    progress.increment(3);
    progress.stop();

    // Then the line shows the count and the time, no bar
    expect(stderr.line).toBe('Describing groups 3 | 0s');
  });

  it('draws a bar once the total is known, with the unit and the detail given', () => {
    // Given a progress line with a unit
    const stderr = new Terminal();
    const progress = new Output({ stdout: new Terminal(), stderr }, false).progress('publishing', 0, ' readings');

    // When the total becomes known and an update carries a detail
    progress.setTotal(8);
    progress.update(2, '| sent 3');
    progress.stop();

    // Then a bar against the total is drawn, with the unit, the share and the detail
    expect(stderr.line).toMatch(/^publishing \[[█░]{40}\] 2\/8 readings 25% \| sent 3 \| 0s$/);
  });

  it('prints nothing with --json or when stderr is not a terminal', () => {
    // Given stderr as a pipe
    const pipe = {
      text: '',
      write(chunk: string) {
        this.text += chunk;
        return true;
      },
    };
    // When progress is counted with --json
    const json = new Output({ stdout: new Terminal(), stderr: pipe }, true).progress('x', 5);
    json.increment();
    json.stop();

    // Then nothing is written
    expect(pipe.text).toBe('');
  });
});
