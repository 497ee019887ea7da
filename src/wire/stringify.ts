/**
 * The hooks behind generated `toString()` (C++ `kj::str(reader)`, capnp/stringify.c++) and
 * the registry of generated files' schemas.
 *
 * Printing a struct in Cap'n Proto's text format needs its schema: the nodes each generated
 * module embeds (`$schema`), decoded by the reflection in capnts/schema, which is most of the
 * library's code. So neither is imported by generated code:
 *
 * - the printer is installed: loading capnts/schema installs it (`setStructPrinter`); without it
 *   `toString()` prints `<struct @0x…: import "capnts/schema" to print the text format>`;
 * - a generated module registers its `$schema` as it is evaluated (`registerSchema`, called
 *   where `$schema` is defined, marked pure), and `toString()` names only the struct's type id.
 *   No class refers to `$schema`, so a bundler drops the schema blob of a program that never
 *   uses it; a bundled program that prints keeps it by using it
 *   (`schemas.addFile(mod.$schema)`). Unbundled, every loaded module's schema is registered.
 *
 * A bundle that never imports capnts/schema then carries none of reflection; Node programs that
 * use the schema module, the compiler or the CLI print as before.
 */
import type { StructView } from "./struct.js";

/** What generated modules export as `$schema` (decoded by capnts/schema's `SchemaLoader`). */
export interface SchemaFile {
  readonly id: bigint;
  /**
   * Base64 of a single-segment message whose root is a List(AnyPointer) of schema.capnp `Node`
   * structs: the file node and every node declared in the file.
   */
  readonly nodes: string;
  /** The `$schema` of the generated modules this one imports. */
  readonly imports: () => readonly SchemaFile[];
}

/** A generic specialization's bindings: scope id → bound types (capnts/schema `Bindings`). */
export type PrintBindings = ReadonlyMap<bigint, readonly unknown[]>;

/** Prints struct `typeId` in text format (see capnts/schema `structToString`). */
export type StructPrinter = (view: StructView, typeId: bigint, bindings?: PrintBindings) => string;

let printer: StructPrinter | undefined;
const registered: SchemaFile[] = [];

/** Install the text-format printer (capnts/schema does on load); `undefined` removes it. */
export function setStructPrinter(p: StructPrinter | undefined): void {
  printer = p;
}

/** Generated modules' `$schema`: record it for the printer and return it. */
export function registerSchema(file: SchemaFile): SchemaFile {
  registered.push(file);
  return file;
}

/** The `$schema` of every generated module evaluated so far, in order of evaluation. */
export function registeredSchemas(): readonly SchemaFile[] {
  return registered;
}

/** Generated `toString()`: the installed printer's text, or where to get it. */
export function structToString(view: StructView, typeId: bigint, bindings?: PrintBindings): string {
  if (printer !== undefined) return printer(view, typeId, bindings);
  return `<struct @0x${typeId.toString(16).padStart(16, "0")}: import "capnts/schema" to print the text format>`;
}
