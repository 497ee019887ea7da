/** Errors of the schema front end, located and worded as capnp reports them. */

export interface SchemaDiagnostic {
  /** The file as capnp names it (its display name). */
  readonly file: string;
  readonly startByte: number;
  readonly endByte: number;
  readonly message: string;
}

/** A diagnostic with its position as capnp prints it: 1-based line, 1-based columns in bytes. */
export interface LocatedDiagnostic extends SchemaDiagnostic {
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** `file:line:col[-col]: error: message`, capnp's format (capnp.c++ `addError`). */
export function formatDiagnostic(d: LocatedDiagnostic): string {
  if (d.endLine !== d.line) return `${d.file}:${d.line}: error: ${d.message}`;
  if (d.endColumn === d.column) return `${d.file}:${d.line}:${d.column}: error: ${d.message}`;
  return `${d.file}:${d.line}:${d.column}-${d.endColumn}: error: ${d.message}`;
}

/** One or more errors in schema files; the message lists them one per line, as capnp prints them. */
export class SchemaCompileError extends Error {
  override name = "SchemaCompileError";
  constructor(readonly diagnostics: readonly LocatedDiagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
  }
}

/** Collects errors for one file (C++ `ErrorReporter`). */
export class ErrorReporter {
  readonly errors: SchemaDiagnostic[] = [];
  constructor(readonly file: string) {}
  add(startByte: number, endByte: number, message: string): void {
    this.errors.push({ file: this.file, startByte, endByte, message });
  }
  on(located: { readonly startByte: number; readonly endByte: number }, message: string): void {
    this.add(located.startByte, located.endByte, message);
  }
  get hadErrors(): boolean {
    return this.errors.length > 0;
  }

  /** The errors with line and column (C++ `LineBreakTable`). */
  locate(text: Uint8Array): LocatedDiagnostic[] {
    const breaks = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === 0x0a) breaks.push(i + 1);
    const pos = (offset: number) => {
      let lo = 0;
      let hi = breaks.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (breaks[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo + 1, column: offset - breaks[lo]! + 1 };
    };
    return this.errors.map((e) => {
      const s = pos(e.startByte);
      const t = pos(e.endByte);
      return { ...e, line: s.line, column: s.column, endLine: t.line, endColumn: t.column };
    });
  }
}
