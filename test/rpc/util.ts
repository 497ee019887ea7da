/** Helpers shared by the RPC behaviour tests. */
import type { Client, Pipeline, RemotePromise } from "capnts/rpc";
import type { TestBootstrap_Client } from "../interop/gen/test.capnp.js";

/** A capability from the results' `cap` field, pipelined (the call itself is dropped). */
export function pipelined<C extends Client>(p: RemotePromise<unknown, Pipeline & { cap: C }>): C {
  const cap = p.pipeline.cap;
  p.cancel();
  return cap;
}

type Getters =
  | "testInterface"
  | "testExtends"
  | "testPipeline"
  | "testCallOrder"
  | "testTailCallee"
  | "testTailCaller"
  | "testMoreStuff";

/** `boot.testX()` as a pipelined capability (C++ TestContext::connect(tag)). */
export function obj<K extends Getters>(
  boot: TestBootstrap_Client,
  k: K,
): ReturnType<TestBootstrap_Client[K]>["pipeline"]["cap"] {
  return pipelined(boot[k]() as never);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
