/**
 * C++ `CapabilityServerSet<T>` (capability.h): a set of servers whose capabilities can be
 * unwrapped back into the implementation objects, e.g. when a capability handed out comes back
 * in a call, or after a promise resolves to one of ours.
 *
 *     const set = new CapabilityServerSet<Foo_Server>();
 *     const cap = set.add(Foo.server(impl), Foo_Client);   // a capability, like new Foo_Client(...)
 *     const mine = await set.getLocalServer(someClient);    // impl, or null if not one of ours
 *
 * `getLocalServer()` waits for promises to resolve (through embargoes too, so calls made before
 * the resolution reach the object first: rpc-test.c++ EmbargoUnwrap), and, if streaming calls are
 * queued on the object, for those queued now to finish ("Streaming over RPC then unwrap with
 * CapabilitySet"): the caller may believe they completed already, since over RPC a streaming
 * call's `send()` settles as soon as the flow-control window allows.
 */
import { Client, type ClientCtor } from "./capability.js";
import { type ClientHook, innermost } from "./hooks.js";
import { LocalClient } from "./local-client.js";
import type { Server } from "./server.js";

export class CapabilityServerSet<T extends object = object> {
  private readonly members = new WeakSet<Server>();

  /**
   * Add `server` to the set and return a capability of it (a new reference; the set holds none).
   * `ctor`: the client class to return (default the untyped `Client`).
   */
  add(server: Server): Client;
  add<C extends Client>(server: Server<C>, ctor: ClientCtor<C>): C;
  add<C extends Client = Client>(server: Server, ctor?: ClientCtor<C>): C {
    this.members.add(server);
    const C = (ctor ?? Client) as ClientCtor<C>;
    return new C(server._client());
  }

  /** True if `server` was added to this set. */
  has(server: Server): boolean {
    return this.members.has(server);
  }

  /**
   * The implementation object behind `client` if it is (or resolves to) a capability of a server
   * of this set, else null. The client handle is not consumed.
   */
  async getLocalServer(client: Client): Promise<T | null> {
    let hook: ClientHook = client._live().addRef();
    try {
      for (;;) {
        // The most-resolved-so-far version of the capability.
        const inner = innermost(hook);
        if (inner instanceof LocalClient && this.members.has(inner.server)) {
          const server = inner.server;
          // Streaming calls queued on it (perhaps reflected back over RPC before the promise
          // resolved) must finish first, or direct use of the object would jump their queue.
          const drained = inner._whenUnblocked();
          if (drained !== null) await drained;
          return server.impl as T;
        }
        const more = inner.whenMoreResolved();
        if (more === null) return null; // settled: never one of ours
        // From the run queue, like a kj continuation: calls the resolution forwarded (queued
        // calls, an embargo's) are delivered first.
        const next = await new Promise<ClientHook>((resolve, reject) =>
          more.listen((ok, v) => (ok ? resolve((v as ClientHook).addRef()) : reject(v))),
        );
        hook.release();
        hook = next;
      }
    } finally {
      hook.release();
    }
  }
}
