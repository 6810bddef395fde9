/**
 * The demo's one status line: rewritten in place on a terminal (\r), or, when stdout is
 * not a TTY (CI, a pipe), printed as plain lines only when the caller asks (`commit`).
 */
export interface LiveLineStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface LiveLine {
  /** Replaces the live line (terminal only). */
  update(text: string): void;
  /** Prints `text` on a line of its own, above the live line. */
  log(text: string): void;
  /** Prints the live line as a plain line when not on a terminal (a rotation finished). */
  commit(text: string): void;
  /** Ends the live line with a newline. */
  done(): void;
}

const CLEAR = '\r\x1b[2K';

export function liveLine(stream: LiveLineStream): LiveLine {
  const tty = stream.isTTY === true;
  let current = '';
  const fit = (text: string) => (stream.columns && text.length >= stream.columns ? `${text.slice(0, stream.columns - 2)}…` : text);
  return {
    update(text) {
      current = text;
      if (tty) stream.write(CLEAR + fit(text));
    },
    log(text) {
      stream.write(tty ? `${CLEAR}${text}\n${fit(current)}` : `${text}\n`);
    },
    commit(text) {
      if (tty) this.update(text);
      else stream.write(`${text}\n`);
    },
    done() {
      if (tty && current !== '') stream.write('\n');
      current = '';
    },
  };
}
