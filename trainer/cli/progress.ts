// Progress for long work. On a terminal: one live line, rewritten in place (epoch, step/steps, loss,
// running accuracy, images/s, ETA). Not on a terminal (CI, a pipe, a log file): a plain line every
// `every` seconds and at the end of each epoch, so logs stay readable.

export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): boolean;
  columns?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

export class Progress {
  private lastPlain = 0;
  private liveShown = false;

  constructor(private readonly stream: ProgressStream = process.stderr, private readonly every = 10, private readonly quiet = false) {}

  get isTTY(): boolean {
    return !!this.stream.isTTY;
  }

  /** A status update; `force` prints a plain line even off a terminal. */
  update(text: string, force = false): void {
    if (this.quiet) return;
    if (this.stream.isTTY) {
      const cols = this.stream.columns ?? 120;
      this.stream.write(`\r\x1b[2K${text.length > cols - 1 ? text.slice(0, cols - 1) : text}`);
      this.liveShown = true;
      return;
    }
    const now = Date.now();
    if (force || now - this.lastPlain >= this.every * 1000) {
      this.lastPlain = now;
      this.stream.write(text + "\n");
    }
  }

  /** A line that stays (ends the live line first). */
  log(text: string): void {
    if (this.quiet) return;
    this.endLine();
    this.stream.write(text + "\n");
  }

  endLine(): void {
    if (this.liveShown) { this.stream.write("\n"); this.liveShown = false; }
  }
}
