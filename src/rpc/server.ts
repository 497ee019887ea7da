/**
 * Capability servers: what a user implements (C++ `Capability::Server`), the typed context a
 * method receives (C++ `CallContext<Params, Results>`), and the interface descriptions the code
 * generator emits.
 */
import {
  type AnyPointerBuilder,
  MessageBuilder,
  type StructBuilder,
  type StructBuilderCtor,
  type StructCtor,
  type StructReader,
  type StructView,
} from "../wire/index.js";
import { releaseCapTable } from "./broken.js";
import type { CallContextBase } from "./call-context.js";
import type { Client, Pipeline, Request } from "./capability.js";
import { type CallName, fromCallee, RpcError } from "./errors.js";
import { type ClientHook, PipelineHook, type PipelineOps } from "./hooks.js";
import { LocalClient } from "./local-client.js";
import { capAtPath } from "./taken.js";

/** One method of an interface, as generated. Fields may be getters (to defer class references). */
export interface MethodInfo {
  readonly name: string;
  /** Reader class of the params struct. */
  readonly params: StructCtor<unknown>;
  /** Builder class of the results struct. */
  readonly results: StructBuilderCtor<unknown>;
  /** `-> stream` method (results are stream.capnp StreamResult). */
  readonly streaming?: boolean;
  /** C++ 1.x `$Cxx.allowCancellation` on the method, its interface or its file. */
  readonly allowCancellation?: boolean;
}

/** An interface, as generated (`static readonly _interface` of its Client class). */
export interface InterfaceInfo {
  readonly typeId: bigint;
  readonly name: string;
  /** Indexed by method ordinal (`@n`). */
  readonly methods: readonly MethodInfo[];
  /** Direct superclasses (`interface Foo extends(Bar, Baz)`). */
  readonly superclasses?: readonly InterfaceInfo[];
}

/** Generated per interface: calls the implementation's method for (interfaceId, methodId). */
export type DispatchFn = (
  // biome-ignore lint/suspicious/noExplicitAny: each generated dispatch takes its own Foo_Server.
  impl: any,
  interfaceId: bigint,
  methodId: number,
  ctx: CallContext<unknown, unknown>,
) => Promise<void> | void;

/**
 * The error a missing method or interface raises (C++ `internalUnimplemented`). Throws.
 * Without `methodName`: the capability does not implement interface `typeId` (a `castAs` to an
 * interface the server lacks); worded as C++ words it, naming what the server implements
 * (`actualInterfaceName`) and the interface asked for (`requestedTypeId`). The caller's error
 * names the requested interface by name as well (errors.ts `forCall`).
 */
export function unimplemented(
  interfaceName: string,
  methodName?: string,
  typeId?: bigint,
  methodId?: number,
): never {
  if (methodName === undefined) {
    throw fromCallee(
      new RpcError(
        "unimplemented",
        `Requested interface not implemented.; actualInterfaceName = ${interfaceName}${typeId !== undefined ? `; requestedTypeId = 0x${typeId.toString(16)}` : ""}`,
      ),
    );
  }
  const where = `${interfaceName}.${methodName}${typeId !== undefined ? ` (0x${typeId.toString(16)}@${methodId ?? "?"})` : ""}`;
  throw new RpcError("unimplemented", `Method not implemented: ${where}`);
}

/**
 * @internal A call's names for error messages: `info` is the caller's interface (a generated
 * Client's `_interface`), `interfaceId` the one the method belongs to (it or a superclass).
 */
export function callName(info: InterfaceInfo | undefined, interfaceId: bigint, methodId: number): CallName {
  const iface = info === undefined ? null : findInterface(info, interfaceId, new Set());
  return {
    interfaceName: iface?.name,
    interfaceId,
    methodName: iface?.methods[methodId]?.name,
    methodId,
  };
}

function findInterface(info: InterfaceInfo, typeId: bigint, seen: Set<InterfaceInfo>): InterfaceInfo | null {
  if (info.typeId === typeId) return info;
  if (seen.has(info)) return null;
  seen.add(info);
  for (const s of info.superclasses ?? []) {
    const r = findInterface(s, typeId, seen);
    if (r !== null) return r;
  }
  return null;
}

/**
 * The optional members of an implementation object that are not RPC methods: what C++'s
 * `Capability::Server` lets a subclass override, and its destructor. Generated `Foo_Server`
 * interfaces extend this, and their method names never collide with it (a method named `getFd`
 * or `shortenPath` is generated as `getFd$` / `shortenPath$`).
 */
export interface ServerHooks {
  /**
   * C++ `Capability::Server::getFd()`: the file descriptor this capability wraps, sent with it
   * when FD passing is on (`TwoPartyOptions.maxFdsPerMessage`); null (or absent) for none.
   */
  getFd?(): number | null;
  /**
   * C++ `Capability::Server::shortenPath()`: a promise for a capability that later calls may go
   * to directly; null or absent for none. Called once, when the capability is made.
   */
  shortenPath?(): PromiseLike<unknown> | null | undefined;
  /** Runs when the last reference to the capability goes (C++: the server's destructor). */
  [Symbol.dispose]?(): void;
}

/**
 * What a generated `Foo.server(impl)` accepts: an implementation `I` of the server interface `S`
 * (`Foo_Server`, every method optional) whose other members do not look like RPC methods, that
 * is, are not functions taking no argument or a CallContext: such a member is a misspelt method
 * (`{ evaluate(ctx) {...}, evaluat() {...} }`) or belongs to another interface
 * (`Foo.server(barImpl)`). State, helpers taking other arguments, private members, symbol-keyed
 * members and Object's (`toString()`) are fine. An object serving two interfaces can be passed as
 * `impl as Foo.Server`.
 */
export type ServerImpl<I, S> = [OtherKeys<I, S>] extends [never] ? I : I & NoMethods<I, S>;

/** Keys of I that are not members of S (nor symbols or Object's methods). */
type OtherKeys<I, S> = Exclude<keyof I, keyof S | symbol | ObjectMethodName>;

/**
 * The type a member that looks like an RPC method but is not one must have: no function has it,
 * so the compiler's error quotes this text at the member ("Type '() => void' is not assignable to
 * type '"not a method of this interface: …"'").
 */
type NotAMethodOfThisInterface =
  "not a method of this interface: a misspelt method? Make a helper private, or pass `impl as Foo.Server`";

/** The other keys of I, with an impossible type for those holding RPC-method-like functions. */
type NoMethods<I, S> = {
  [K in OtherKeys<I, S>]: NonNullable<I[K]> extends (context: infer C, ...rest: never[]) => unknown
    ? unknown extends C
      ? NotAMethodOfThisInterface
      : C extends CallContext<unknown, unknown>
        ? NotAMethodOfThisInterface
        : I[K]
    : I[K];
};

type ObjectMethodName = "toString" | "toLocaleString" | "valueOf" | "toJSON";

/**
 * @internal Live server objects, for leak checks (the test harness): `created` counts the times a
 * server became a capability (its local client was made), `disposed` the times its last
 * reference went (its `[Symbol.dispose]()` ran). A server is alive between the two; a server
 * made into a capability again after that counts again. Two increments per capability
 * lifetime, nothing per call.
 */
export const serverLifetimes = { created: 0, disposed: 0 };

/**
 * A capability server: an implementation object plus the generated dispatch function.
 * `new Foo.Client(server)` (or passing it anywhere a capability goes) makes a capability of it;
 * all such capabilities share one local client, so sending it twice exports it once. When the
 * last reference goes, the implementation's `[Symbol.dispose]()` runs (C++: the server's
 * destructor).
 *
 * `C` is the client class of the interface it implements, for types only: `Foo.server(impl)` is a
 * `Server<Foo_Client>`, which capability setters, lists and `new Foo.Client(...)` of Foo (or of a
 * superclass of Foo) accept, and those of other interfaces do not. A plain `Server` (C = Client)
 * is a server of any interface: what the untyped `Client` and `:Capability` fields take.
 */
export class Server<C extends Client = Client> {
  /**
   * Never set: it only carries `C` in the type (covariantly, so a server of a subinterface is
   * also a server of its superclasses).
   */
  declare readonly _serves?: C;
  readonly info: InterfaceInfo;
  readonly impl: object;
  readonly dispatch: DispatchFn;
  private hook: LocalClient | null = null;
  private byId: Map<bigint, InterfaceInfo | null> | null = null;

  constructor(info: InterfaceInfo, impl: object, dispatch: DispatchFn) {
    this.info = info;
    this.impl = impl;
    this.dispatch = dispatch;
  }

  /** @internal A new reference to this server's capability. */
  _client(): ClientHook {
    const h = this.hook;
    if (h !== null) return h.addRef();
    serverLifetimes.created++;
    return (this.hook = new LocalClient(this));
  }

  /** @internal */
  _clientDestroyed(h: LocalClient): void {
    serverLifetimes.disposed++;
    if (this.hook === h) this.hook = null;
    const d = (this.impl as ServerHooks)[Symbol.dispose];
    if (typeof d === "function") {
      try {
        d.call(this.impl);
      } catch {
        // A throwing destructor must not break the caller's release.
      }
    }
  }

  methodInfo(interfaceId: bigint, methodId: number): MethodInfo | null {
    const map = (this.byId ??= new Map());
    let iface = map.get(interfaceId);
    if (iface === undefined) {
      iface = findInterface(this.info, interfaceId, new Set());
      map.set(interfaceId, iface);
    }
    if (iface === null) return null;
    return iface.methods[methodId] ?? null;
  }

  /** @internal Called for each delivered call. Unknown interfaces and methods fail as unimplemented. */
  dispatchCall(
    interfaceId: bigint,
    methodId: number,
    hook: CallContextBase,
    method: MethodInfo | null,
  ): Promise<void> | void {
    if (method === null) {
      if (
        this.methodInfo(interfaceId, 0) === null &&
        findInterface(this.info, interfaceId, new Set()) === null
      ) {
        unimplemented(this.info.name, undefined, interfaceId);
      }
      unimplemented(this.info.name, `method ${methodId}`, interfaceId, methodId);
    }
    return this.dispatch(this.impl, interfaceId, methodId, new CallContext(hook, method));
  }

  /**
   * C++ `Capability::Server::shortenPath()`, via `impl.shortenPath()`: a promise for a capability
   * that later calls may go to directly (a shorter path), or null (the default). A non-null
   * result makes this server's capability a promise: it is exported as `senderPromise` and the
   * peer gets a `Resolve` when the promise settles (never, if it never does). Called once, when
   * the capability is made.
   */
  shortenPath(): PromiseLike<unknown> | null {
    const f = (this.impl as ServerHooks).shortenPath;
    if (typeof f !== "function") return null;
    return f.call(this.impl) ?? null;
  }

  /** The FD this server wraps (C++ `Capability::Server::getFd()`); override via `impl.getFd`. */
  getFd(): number | null {
    const f = (this.impl as ServerHooks).getFd;
    return typeof f === "function" ? f.call(this.impl) : null;
  }
}

/**
 * What a method implementation receives (C++ `CallContext<Params, Results>`): typed params and
 * results, tail calls, pipelining before returning, and cancellation.
 */
export class CallContext<P = StructReader, RB = StructBuilder> {
  /** @internal */
  readonly _hook: CallContextBase;
  private readonly method: MethodInfo;
  private p: P | undefined = undefined;
  private r: RB | undefined = undefined;

  constructor(hook: CallContextBase, method: MethodInfo) {
    this._hook = hook;
    this.method = method;
  }

  /** The params (valid until `releaseParams()`). */
  get params(): P {
    return (this.p ??= this._hook.getParams().getAs(this.method.params) as P);
  }
  getParams(): P {
    return this.params;
  }
  /** Free the params early (C++ `releaseParams()`); their capabilities are released. */
  releaseParams(): void {
    this.p = undefined;
    this._hook.releaseParams();
  }
  /** The results builder, initialised on first use. */
  get results(): RB {
    return (this.r ??= this._hook.getResults().getAs(this.method.results) as RB);
  }
  getResults(): RB {
    return this.results;
  }
  initResults(): RB {
    this.r = this._hook.getResults().initAs(this.method.results) as RB;
    return this.r;
  }
  /** Copy `value` as the results (C++ `setResults(reader)`); capabilities in it are shared. */
  setResults(value: StructView): void {
    // The copy takes its own references to capabilities in `value` (wire copyPointer).
    this._hook.getResults().setStruct(value);
    this.r = undefined;
  }
  /**
   * Let `request` produce this call's results (C++ `tailCall()`); the returned promise settles
   * when it has. Over RPC, a tail call back to the caller's vat is sent with
   * `sendResultsTo.yourself` and answered with `takeFromOtherQuestion`.
   */
  tailCall<PB, R, P extends Pipeline>(request: Request<PB, R, P>): Promise<void> {
    const req = request._take();
    return new Promise<void>((resolve, reject) => {
      const h = this._hook;
      h.directTailCall(req);
      // Settles with the tail call's outcome (it completes this context).
      waitDone(h, resolve, reject);
    });
  }
  /**
   * Make pipelined calls on this call's results go to the capabilities set by `init` before the
   * call returns (C++ `setPipeline()`).
   */
  setPipeline(init: (results: RB) => void): void {
    const m = new MessageBuilder();
    const root = m.getRootAnyPointer();
    init(root.initAs(this.method.results) as RB);
    const pipeline = new MessagePipeline(m, root);
    this._hook.setPipeline(pipeline);
    pipeline.release();
  }
  /** Aborted when the caller cancels a call that may be canceled. */
  get signal(): AbortSignal {
    return this._hook.signal;
  }
  /** Allow the caller to cancel this call from now on (C++ 0.9.2 `allowCancellation()`). */
  allowCancellation(): void {
    this._hook.permitCancellation();
  }
}

function waitDone(h: CallContextBase, resolve: () => void, reject: (e: unknown) => void): void {
  h.whenDone(() => {
    if (h.doneError === null) resolve();
    else reject(h.doneError);
  });
}

/** A pipeline over a message built by `setPipeline()`. */
class MessagePipeline extends PipelineHook {
  private m: MessageBuilder | null;
  private root: AnyPointerBuilder;
  constructor(m: MessageBuilder, root: AnyPointerBuilder) {
    super();
    this.m = m;
    this.root = root;
  }
  getPipelinedCap(ops: PipelineOps): ClientHook {
    return capAtPath(this.root.asReader(), ops);
  }
  protected override destroy(): void {
    const m = this.m;
    this.m = null;
    if (m !== null) releaseCapTable(m.capTable);
  }
}
