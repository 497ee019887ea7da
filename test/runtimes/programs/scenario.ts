/**
 * The client/server pair every runtime test runs, with no `node:` imports so that it runs in Deno,
 * Bun, workerd and Node alike: the calculator example (examples/calculator) with
 *   - promise pipelining: its client's steps call capabilities before the calls that return them
 *     have returned, and count the round trips each step took (a pipelined step takes one);
 *   - a callback capability: the client passes its own `pow` Function, the server calls it;
 *   - a typed error: a server-side exception arrives as an `RpcError` of type "failed";
 * and, on the server side, the count of server objects still alive, which must come back to
 * where it was once the client has gone (nothing leaked).
 */
import { RpcError } from "capnts/rpc";
import {
  type Calculator_Client,
  Calculator_Operator,
} from "../../../examples/calculator/calculator.capnp.js";
import { type RoundTripCounter, runClient, type Step } from "../../../examples/calculator/client.js";
// The leak check the RPC tests use (test/rpc/harness.ts): capability servers made and not yet
// disposed, in this process. Internal on purpose: only tests count them.
import { serverLifetimes } from "../../../src/rpc/server.js";

export interface ClientReport {
  steps: Pick<Step, "name" | "value" | "expected" | "roundTrips">[];
  /** What a call that the server fails raised. */
  error: { rpcError: boolean; type: string; message: string } | null;
}

export interface ServerReport {
  /** Server objects still alive after the client went, beyond those alive before it came. */
  leaked: number;
  /** Connections the server still had then. */
  connections: number;
}

/** Runs the calculator client's steps, then a call that the server rejects. */
export async function runScenario(calc: Calculator_Client, counter: RoundTripCounter): Promise<ClientReport> {
  await calc.whenResolved(); // the Bootstrap round trip, as in the demo: not part of a step
  const steps = await runClient(calc, counter, () => {});
  let error: ClientReport["error"] = null;
  {
    using addP = calc.getOperator((p) => (p.op = Calculator_Operator.add));
    using add = addP.pipeline.func;
    // add takes two parameters: the server throws "Wrong number of parameters."
    using r = add.call((p) => {
      const l = p.initParams(3);
      for (let i = 0; i < 3; i++) l.set(i, i);
    });
    try {
      await r;
    } catch (e) {
      error = {
        rpcError: e instanceof RpcError,
        type: e instanceof RpcError ? e.type : "",
        message: e instanceof Error ? e.message : String(e),
      };
    }
  }
  return {
    steps: steps.map(({ name, value, expected, roundTrips }) => ({ name, value, expected, roundTrips })),
    error,
  };
}

/** Server objects alive now in this process. */
export function liveServers(): number {
  return serverLifetimes.created - serverLifetimes.disposed;
}

/**
 * Once a client has gone: waits (up to 2 s: releases ride on socket events) for the live server
 * count to return to `baseline` and reports what is left.
 */
export async function serverReport(baseline: number, connections: () => number): Promise<ServerReport> {
  const deadline = Date.now() + 2000;
  while ((liveServers() !== baseline || connections() !== 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return { leaked: liveServers() - baseline, connections: connections() };
}
