import { RpcError } from "./errors.js";

/** Thrown for a protocol violation: the connection aborts with this reason. */
export class ProtocolError extends RpcError {
  constructor(message: string) {
    super("failed", message);
  }
}

/** C++ `KJ_REQUIRE` on a peer's message: a violation aborts the connection with `message`. */
export function require_(cond: boolean, message: string): asserts cond {
  if (!cond) throw new ProtocolError(message);
}
