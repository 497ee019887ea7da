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

/** One piece of an exception's extra information (rpc.capnp `Exception.Detail`). */
export interface RpcErrorDetail {
  /** What kind of detail this is: an ID its users agree on (make one with `capnp id`). */
  readonly id: bigint;
  readonly data: Uint8Array;
}

export interface RpcErrorOptions {
  /** The trace the peer sent (rpc.capnp `Exception.trace`). */
  remoteTrace?: string;
  /** Extra information that crosses the wire with the error (C++ `kj::Exception::setDetail()`). */
  details?: readonly RpcErrorDetail[];
  cause?: unknown;
  /** The exception's description when `message` says more (see `RpcError.reason`). */
  reason?: string;
  /** The call this error failed, "Interface.method" (see `RpcError.method`). */
  method?: string;
}

export class RpcError extends Error {
  readonly type: RpcErrorType;
  /** The trace the peer sent (rpc.capnp `Exception.trace`), when it sent one. */
  readonly remoteTrace: string | undefined;
  // `method` and `_reason` are declared, not initialised: set only when given, so that
  // inspecting a plain error shows nothing new.
  /**
   * The call whose promise rejected with this error, as "Interface.method", when this error
   * came from the callee's side (an exception the peer sent back, or a call the server does not
   * implement); `message` then names it too. Undefined otherwise.
   */
  declare readonly method?: string;
  declare private readonly _reason?: string;
  /**
   * Application-defined extra information (rpc.capnp `Exception.details`, 1.x; C++
   * `kj::Exception::getDetails()`): sent with the error to the peer, kept when the error ends a
   * connection. Set only when there are some; see {@link getDetail}.
   */
  declare readonly details?: readonly RpcErrorDetail[];

  constructor(type: RpcErrorType, message: string, options?: RpcErrorOptions) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "RpcError";
    this.type = type;
    this.remoteTrace = options?.remoteTrace;
    if (options?.method !== undefined) this.method = options.method;
    if (options?.reason !== undefined) this._reason = options.reason;
    if (options?.details !== undefined && options.details.length > 0) this.details = options.details;
  }

  /** The data of the detail with this ID, if the error has one (C++ `getDetail(id)`). */
  getDetail(id: bigint): Uint8Array | undefined {
    return this.details?.find((d) => d.id === id)?.data;
  }

  /**
   * The exception's description as C++ has it (kj::Exception::getDescription()): for an
   * exception the peer sent, its rpc.capnp `Exception.reason` with the C++ "remote exception: "
   * prefix rule applied, and nothing else. This is the text sent when the error crosses a
   * connection again. Equal to `message` unless `message` names the call (`method`).
   */
  get reason(): string {
    return this._reason ?? this.message;
  }

  /** An error as received from the peer: the C++ prefix rule applied to `reason`. */
  static fromRemote(
    type: RpcErrorType,
    reason: string,
    trace?: string,
    details?: readonly RpcErrorDetail[],
  ): RpcError {
    const message = reason.startsWith(REMOTE_EXCEPTION_PREFIX) ? reason : REMOTE_EXCEPTION_PREFIX + reason;
    const options: RpcErrorOptions = {};
    if (trace !== undefined && trace !== "") options.remoteTrace = trace;
    if (details !== undefined) options.details = details;
    return fromCallee(new RpcError(type, message, options));
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

  /**
   * When true, every call records the stack where it was made (one stack capture per call: a
   * debugging aid, off by default), and an error that names its call (`method`) carries that
   * stack, so the caller's line shows below the message. Like `Error.stackTraceLimit`, a
   * process-wide switch.
   */
  static captureCallSites = false;
}

/** Errors raised on the callee's side of a call (their callers name the call: forCall). */
const FROM_CALLEE = new WeakSet<RpcError>();

/** @internal Mark `e` as raised on the callee's side of a call; returns it. */
export function fromCallee(e: RpcError): RpcError {
  FROM_CALLEE.add(e);
  return e;
}

/** @internal */
export function isFromCallee(e: unknown): e is RpcError {
  return e instanceof RpcError && FROM_CALLEE.has(e);
}

/**
 * @internal The stack where a call is made, without the frames of `entry` (the runtime method
 * the caller called) and what it called: the caller's line comes first (V8, where
 * `Error.captureStackTrace` exists; elsewhere the whole stack).
 */
export function callSite(entry: (...args: never[]) => unknown): Error {
  const site = new Error();
  const capture = (Error as { captureStackTrace?: (o: object, f: (...args: never[]) => unknown) => void })
    .captureStackTrace;
  if (capture !== undefined) capture(site, entry);
  return site;
}

/** The interface and method of a call, for naming it in errors (from generated InterfaceInfo). */
export interface CallName {
  /** The interface's name ("Calculator"), or undefined when the client is untyped. */
  readonly interfaceName: string | undefined;
  readonly interfaceId: bigint;
  /** The method's name ("evaluate"), when known. */
  readonly methodName: string | undefined;
  readonly methodId: number;
}

export function formatCallName(c: CallName): string {
  const i = c.interfaceName ?? `0x${c.interfaceId.toString(16)}`;
  return `${i}.${c.methodName ?? `@${c.methodId}`}`;
}

/** C++ wording of an unknown interface (capability.c++ `internalUnimplemented`). */
const UNKNOWN_INTERFACE = "Requested interface not implemented.";
const ACTUAL_INTERFACE = /actualInterfaceName = ([^;]+)/;

/**
 * @internal The error a call's promise rejects with: for an error raised on the callee's side,
 * a copy whose message names the call (the reason, unchanged, stays in `reason`); for an
 * unknown interface (a `castAs` to something the server does not implement) it also names
 * what the server implements. Other errors are returned as they are. `site`: the call site
 * recorded when `RpcError.captureCallSites` was on.
 */
export function forCall(e: unknown, call: CallName, site?: Error | null): unknown {
  if (!isFromCallee(e) || e.method !== undefined) return e;
  const name = formatCallName(call);
  const reason = e.reason;
  let detail = `in call to ${name}`;
  if (e.type === "unimplemented" && reason.includes(UNKNOWN_INTERFACE)) {
    const requested = call.interfaceName ?? `interface 0x${call.interfaceId.toString(16)}`;
    const actual = ACTUAL_INTERFACE.exec(reason)?.[1]?.trim();
    detail +=
      actual !== undefined
        ? `: the capability implements ${actual}, not ${requested}`
        : `: the capability does not implement ${requested}`;
  }
  const options: RpcErrorOptions = { reason, method: name };
  if (e.remoteTrace !== undefined) options.remoteTrace = e.remoteTrace;
  if (e.details !== undefined) options.details = e.details;
  return withCallSite(new RpcError(e.type, `${reason} (${detail})`, options), site);
}

/** `e` with the stack of `site` (where the call was made, `RpcError.captureCallSites`), if any. */
export function withCallSite(e: RpcError, site: Error | null | undefined): RpcError {
  if (site !== undefined && site !== null && typeof site.stack === "string") {
    const frames = site.stack.indexOf("\n");
    e.stack = `${e.name}: ${e.message}${frames >= 0 ? site.stack.slice(frames) : ""}`;
  }
  return e;
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

/** A promise capability would resolve into itself (hooks.ts resolvesTo): it breaks instead. */
export function promiseCycleError(): RpcError {
  return new RpcError("failed", "A capability promise resolved to itself (a cycle of promises).");
}

/** Raised when a runtime object is used after `shutdown()`. */
export class ShutdownError extends RpcError {
  constructor(what: string) {
    super("disconnected", `${what}: the runtime has been shut down.`);
    this.name = "ShutdownError";
  }
}

/**
 * Raised when a capability handle is used after `close()` (or after `using` disposed it). A call
 * on a closed handle does not throw: its promise rejects with this error (so do `whenResolved()`
 * and `getFd()`). What makes a new handle from it (`dup()`, `castAs()`, passing it as a
 * capability) throws it, at the line with the bug.
 */
export class ClosedHandleError extends RpcError {
  constructor(what: string) {
    super("failed", `This capability handle was closed: ${what}.`);
    this.name = "ClosedHandleError";
  }
}

/**
 * An address the runtime cannot use ("http://…", a missing or bad port, …), raised before any
 * name lookup. `address` is the string as given.
 */
export class AddressError extends RpcError {
  readonly address: string;
  constructor(address: string, problem: string) {
    super(
      "failed",
      `Invalid address ${JSON.stringify(address)}: ${problem}. Accepted forms: "host:port" (a host name or IPv4 address), "[IPv6]:port", "unix:/path/to.sock".`,
    );
    this.name = "AddressError";
    this.address = address;
  }
}
