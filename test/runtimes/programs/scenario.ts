/**
 * The client/server pair every runtime test runs, with no `node:` imports so that it runs in Deno,
 * Bun, workerd and Node alike: the calculator example (examples/calculator) with
 *   - promise pipelining: its client's steps call capabilities before the calls that return them
 *     have returned, and count the round trips each step took (a pipelined step takes one);
 *   - a callback capability: the client passes its own `pow` Function, the server calls it;
 *   - a typed error: a server-side exception arrives as an `RpcError` of type "failed";
 * and, on the server side (CalculatorHost), the count of server objects still alive, which must
 * come back to where it was once the client has gone (nothing leaked).
 */
import { type MessageStream, RpcError, Runtime, type RuntimeServer, type TwoPartyClient } from "capnts/rpc";
import { connectWebSocket, type WebSocketLike } from "capnts/websocket";
import {
  Calculator_Client,
  Calculator_Function,
  Calculator_Function_Client,
  Calculator_Operator,
} from "../../../examples/calculator/calculator.capnp.js";
import { type RoundTripCounter, runClient, type Step } from "../../../examples/calculator/client.js";
import { calculatorServer } from "../../../examples/calculator/impl.js";
// The leak check the RPC tests use (test/rpc/harness.ts): capability servers made and not yet
// disposed, in this process. Internal on purpose: only tests count them.
import { serverLifetimes } from "../../../src/rpc/server.js";
import { countingMessageStream } from "./counting.js";

/** An error as the test sees it: whether it is a typed RpcError, of which type. */
export interface ErrorReport {
  rpcError: boolean;
  type: string;
  message: string;
}

function errorReport(e: unknown): ErrorReport {
  return {
    rpcError: e instanceof RpcError,
    type: e instanceof RpcError ? e.type : "",
    message: e instanceof Error ? e.message : String(e),
  };
}

export interface ClientReport {
  steps: Pick<Step, "name" | "value" | "expected" | "roundTrips">[];
  /** What a call that the server fails raised. */
  error: ErrorReport | null;
}

export interface DropReport {
  /** How the call pending when the server went ended. */
  call: ErrorReport | null;
  /** Whether the connection said it had ended (onDisconnect) within 5 s. */
  disconnected: boolean;
}

export interface ServerReport {
  /** Connections the server accepted. */
  served: number;
  /** Server objects still alive after the clients went, beyond those alive before they came. */
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
      error = errorReport(e);
    }
  }
  return {
    steps: steps.map(({ name, value, expected, roundTrips }) => ({ name, value, expected, roundTrips })),
    error,
  };
}

/**
 * The server goes away in the middle of a call: evaluates a call of a function of ours that never
 * answers (so the server waits on us), runs `whenPending` once the server is waiting (the caller
 * then takes the server down), and reports how the call ended and whether the connection said so.
 */
export async function callWhileServerGoes(
  conn: TwoPartyClient,
  whenPending: () => void,
): Promise<DropReport> {
  using calc = conn.bootstrap(Calculator_Client);
  const never = new Calculator_Function_Client(
    Calculator_Function.server({
      call(ctx) {
        whenPending();
        return new Promise<void>((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
        );
      },
    }),
  );
  using e = calc.evaluate((p) => {
    const c = p.initExpression().initCall();
    c.function = never;
    c.initParams(1).get(0).literal = 1;
  });
  never.close();
  let call: ErrorReport | null = null;
  try {
    await e;
  } catch (err) {
    call = errorReport(err);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const disconnected = await Promise.race([
    conn.onDisconnect().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
  ]);
  clearTimeout(timer);
  return { call, disconnected };
}

/** Server objects alive now in this process. */
function liveServers(): number {
  return serverLifetimes.created - serverLifetimes.disposed;
}

/**
 * The calculator server side. Its bootstrap capability is made before any client comes and lives
 * on after them, so `report()` can require everything made for the clients to be gone once they
 * are. `rt` may be capnts/node's Runtime, whose server also listens on TCP.
 */
export class CalculatorHost<R extends Runtime = Runtime> {
  readonly rt: R;
  readonly server: RuntimeServer;
  private readonly calculator = new Calculator_Client(calculatorServer());
  private readonly baseline = liveServers();
  private served = 0;
  private firstGone: () => void = () => {};
  /** Resolves once the first client has disconnected. */
  readonly clientGone = new Promise<void>((r) => (this.firstGone = r));

  constructor(rt: R) {
    this.rt = rt;
    this.server = rt.newServer(this.calculator);
    this.server.onConnection = (c) => {
      this.served++;
      void c.onDisconnect().then(this.firstGone);
    };
  }

  /** Serves one connection over `stream` (e.g. a WebSocketTransport). */
  accept(stream: MessageStream): void {
    void this.server.accept(stream);
  }

  /** Once the clients have gone: waits up to 2 s (releases ride on socket events), then reports. */
  async report(): Promise<ServerReport> {
    const deadline = Date.now() + 2000;
    const done = () => liveServers() === this.baseline && this.server.connections.length === 0;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return {
      served: this.served,
      leaked: liveServers() - this.baseline,
      connections: this.server.connections.length,
    };
  }

  async close(): Promise<void> {
    await this.rt.shutdown();
    this.calculator.close();
  }
}

type WebSocketCtor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * Connects to `url` over WebSocket (the platform's WebSocket unless one is given), runs `fn` on
 * the connection, then closes it.
 */
export function overWebSocket<T>(
  url: string,
  WebSocket: WebSocketCtor | undefined,
  fn: (conn: TwoPartyClient, counter: RoundTripCounter) => Promise<T>,
): Promise<T> {
  return Runtime.run(async (rt) => {
    const stream = countingMessageStream(
      await connectWebSocket(url, WebSocket === undefined ? {} : { WebSocket }),
    );
    return await fn(rt.connectStream(stream), stream);
  });
}

/** The calculator scenario against the server at `url`. */
export function webSocketClient(url: string, WebSocket?: WebSocketCtor): Promise<ClientReport> {
  return overWebSocket(url, WebSocket, async (conn, counter) => {
    using calc = conn.bootstrap(Calculator_Client);
    return await runScenario(calc, counter);
  });
}
