/**
 * Errors of the code generator. Every error names the schema node (display name such as
 * `foo.capnp:Bar.baz`) it was raised for, so a bad or unsupported request points at its cause
 * instead of producing invalid TypeScript.
 */
export class CompileError extends Error {
  override name = "CompileError";
  /** Display name of the node being generated, when known. */
  readonly node: string | undefined;

  constructor(message: string, node?: string) {
    super(node === undefined ? message : `${node}: ${message}`);
    this.node = node;
  }
}
