/**
 * Logging goes to stderr so that stdout carries only a command's report (and,
 * with --json, exactly one JSON document).
 */
export type LogLevel = 'quiet' | 'normal' | 'verbose';

export interface Logger {
  readonly level: LogLevel;
  readonly color: boolean;
  readonly interactive: boolean;
  info(message: string): void;
  verbose(message: string): void;
  warn(message: string): void;
  /** A status line that a TTY redraws in place and CI prints as plain lines (throttled by the caller). */
  progress(message: string): void;
  /** Ends a redrawn status line. */
  progressDone(): void;
}

export function colorEnabled(stream: NodeJS.WriteStream = process.stderr): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

const codes = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const;
export type Style = keyof typeof codes;

export function paint(enabled: boolean, style: Style, text: string): string {
  return enabled ? `\u001b[${codes[style]}m${text}\u001b[0m` : text;
}

export function createLogger(level: LogLevel = 'normal', stream: NodeJS.WriteStream = process.stderr): Logger {
  const color = colorEnabled(stream);
  const interactive = Boolean(stream.isTTY) && process.env.CI !== 'true';
  let statusShown = false;
  const clearStatus = (): void => {
    if (statusShown) {
      stream.write('\r\u001b[2K');
      statusShown = false;
    }
  };
  const write = (line: string): void => {
    clearStatus();
    stream.write(`${line}\n`);
  };
  return {
    level,
    color,
    interactive,
    info: (message) => {
      if (level !== 'quiet') write(message);
    },
    verbose: (message) => {
      if (level === 'verbose') write(paint(color, 'dim', message));
    },
    warn: (message) => write(`${paint(color, 'yellow', 'warning:')} ${message}`),
    progress: (message) => {
      if (level === 'quiet') return;
      if (interactive) {
        const width = stream.columns ?? 100;
        stream.write(`\r\u001b[2K${message.slice(0, width - 1)}`);
        statusShown = true;
      } else {
        stream.write(`${message}\n`);
      }
    },
    progressDone: clearStatus,
  };
}

/** A logger that records lines, for tests. */
export function memoryLogger(lines: string[] = []): Logger & { lines: string[] } {
  return {
    level: 'verbose',
    color: false,
    interactive: false,
    lines,
    info: (m) => lines.push(m),
    verbose: (m) => lines.push(m),
    warn: (m) => lines.push(`warning: ${m}`),
    progress: (m) => lines.push(m),
    progressDone: () => undefined,
  };
}
