/**
 * RPC errors. rpc.capnp `Exception.Type` gives four kinds; C++ maps them to kj::Exception::Type
 * and so do we. An exception that crossed the wire gets the C++ "remote exception: " prefix on
 * its description (rpc.c++ `toException`; 1.x does not add the prefix twice) and keeps the
 * peer's `trace` as `remoteTrace`.
 */

export type RpcErrorType = "failed" | "overloaded" | "disconnected" | "unimplemented";

/** rpc.capnp `Exception.Type` ordinals. */
export const EXCEPTION_TYPE_ORDINAL: Readonly<Record<RpcErrorType, number>> = {
  failed: 0,
  overloaded: 1,
  disconnected: 2,
  unimplemented: 3,
};
const TYPES_BY_ORDINAL: readonly RpcErrorType[] = ["failed", "overloaded", "disconnected", "unimplemented"];

export function exceptionTypeFromOrdinal(n: number): RpcErrorType {
  return TYPES_BY_ORDINAL[n] ?? "failed";
}

export const REMOTE_EXCEPTION_PREFIX = "remote exception: ";

export class RpcError extends Error {
  readonly type: RpcErrorType;
  /** The trace the peer sent (rpc.capnp `Exception.trace`), when it sent one. */
  readonly remoteTrace: string | undefined;

  constructor(type: RpcErrorType, message: string, options?: { remoteTrace?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "RpcError";
    this.type = type;
    this.remoteTrace = options?.remoteTrace;
  }

  /** An error as received from the peer: the C++ prefix rule applied to `reason`. */
  static fromRemote(type: RpcErrorType, reason: string, trace?: string): RpcError {
    const message = reason.startsWith(REMOTE_EXCEPTION_PREFIX) ? reason : REMOTE_EXCEPTION_PREFIX + reason;
    return new RpcError(
      type,
      message,
      trace !== undefined && trace !== "" ? { remoteTrace: trace } : undefined,
    );
  }

  static failed(message: string): RpcError {
    return new RpcError("failed", message);
  }
  static disconnected(message: string): RpcError {
    return new RpcError("disconnected", message);
  }
  static unimplemented(message: string): RpcError {
    return new RpcError("unimplemented", message);
  }
  static overloaded(message: string): RpcError {
    return new RpcError("overloaded", message);
  }
}

/** Any thrown value as an RpcError (C++ turns every exception into kj::Exception; so do we). */
export function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof Error) return new RpcError("failed", e.message, { cause: e });
  return new RpcError("failed", String(e));
}

/** The error every call on a canceled call context sees. */
export function canceledError(): RpcError {
  return new RpcError("failed", "Call was canceled.");
}

/** Raised when a runtime object is used after `shutdown()`. */
export class ShutdownError extends RpcError {
  constructor(what: string) {
    super("disconnected", `${what}: the runtime has been shut down.`);
    this.name = "ShutdownError";
  }
}
