/**
 * strata's one way to fail. Every expected problem is a StrataError value that
 * carries where it happened (file:line:col, component, job) and how to fix it;
 * the CLI renders it once and maps its kind to the exit status.
 */

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** input: the user's description is wrong; build: a tool or build failed. */
export type ErrorKind = 'input' | 'build' | 'usage' | 'interrupted';

export interface ErrorContext {
  kind?: ErrorKind;
  location?: SourceLocation;
  component?: string;
  job?: string;
  hint?: string;
  /** Extra lines shown under the message (a log tail, a list of candidates). */
  details?: string[];
  cause?: unknown;
}

export class StrataError extends Error {
  readonly kind: ErrorKind;
  readonly location?: SourceLocation;
  readonly component?: string;
  readonly job?: string;
  readonly hint?: string;
  readonly details: string[];

  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'StrataError';
    this.kind = context.kind ?? 'input';
    this.location = context.location;
    this.component = context.component;
    this.job = context.job;
    this.hint = context.hint;
    this.details = context.details ?? [];
  }

  /** A copy with more context filled in where this error has none. */
  withContext(context: ErrorContext): StrataError {
    return new StrataError(this.message, {
      kind: this.kind,
      location: this.location ?? context.location,
      component: this.component ?? context.component,
      job: this.job ?? context.job,
      hint: this.hint ?? context.hint,
      details: this.details.length > 0 ? this.details : context.details,
      cause: this.cause,
    });
  }
}

/** Several independent problems found in one pass (all config errors at once). */
export class StrataErrors extends Error {
  readonly errors: StrataError[];
  constructor(errors: StrataError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'StrataErrors';
    this.errors = errors;
  }
}

export function usageError(message: string, hint?: string): StrataError {
  return new StrataError(message, { kind: 'usage', hint });
}

export function interrupted(): StrataError {
  return new StrataError('interrupted', { kind: 'interrupted' });
}

export function exitCodeFor(kind: ErrorKind): number {
  switch (kind) {
    case 'usage':
      return 2;
    case 'interrupted':
      return 130;
    default:
      return 1;
  }
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.col}`;
}

/** The one-line form `FILE:LINE:COL: [component X] message`, then hint and details. */
export function renderError(error: StrataError): string {
  const prefix: string[] = [];
  if (error.location) prefix.push(`${formatLocation(error.location)}:`);
  const scope: string[] = [];
  if (error.component) scope.push(`component ${error.component}`);
  if (error.job) scope.push(`job ${error.job}`);
  const head = [...prefix, scope.length > 0 ? `[${scope.join(', ')}]` : '', error.message]
    .filter((part) => part !== '')
    .join(' ');
  const lines = [head];
  for (const detail of error.details) lines.push(`  ${detail}`);
  if (error.hint) lines.push(`  hint: ${error.hint}`);
  return lines.join('\n');
}

export function errorToJson(error: StrataError): Record<string, unknown> {
  return {
    kind: error.kind,
    message: error.message,
    ...(error.location ? { file: error.location.file, line: error.location.line, col: error.location.col } : {}),
    ...(error.component ? { component: error.component } : {}),
    ...(error.job ? { job: error.job } : {}),
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.details.length > 0 ? { details: error.details } : {}),
  };
}
