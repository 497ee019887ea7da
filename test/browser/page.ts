/**
 * The browser test page: scenarios the Node test drives with page.evaluate(). Runs in Chromium,
 * bundled by esbuild; talks to the test's Node capnts server over WebSocket and to a capnts
 * server in a Web Worker over MessagePort.
 */
import { type MessagePortLike, MessagePortTransport } from "capnts/messageport";
import { RpcError, Runtime } from "capnts/rpc";
import { connectWebSocket, type WebSocketConstructor } from "capnts/websocket";
import { countingWebSocket } from "../../examples/browser/round-trips.js";
import {
  Calculator_Client,
  Calculator_Function,
  Calculator_Function_Client,
  Calculator_Operator,
} from "../../examples/calculator/calculator.capnp.js";
import { runClient, type Step } from "../../examples/calculator/client.js";
import { calculatorServer } from "../../examples/calculator/impl.js";

declare const WebSocket: WebSocketConstructor;
declare const Worker: new (
  url: string,
  options: { type: "module" },
) => MessagePortLike & { terminate(): void };
declare const MessageChannel: new () => { port1: MessagePortLike; port2: MessagePortLike };

const rt = Runtime.init();

function errorInfo(e: unknown) {
  return {
    isRpcError: e instanceof RpcError,
    type: e instanceof RpcError ? e.type : null,
    message: e instanceof Error ? e.message : String(e),
  };
}

function summary(steps: Step[]) {
  return steps.map((s) => ({ name: s.name, value: s.value, expected: s.expected, roundTrips: s.roundTrips }));
}

let pending: { outcome: Promise<unknown> } | null = null;

const tests = {
  /** The calculator client: pipelined steps, and a page capability the server calls back. */
  async calculator(url: string) {
    const counter = { roundTrips: 0 };
    const conn = rt.connectStream(
      await connectWebSocket(url, { WebSocket: countingWebSocket(WebSocket, counter) }),
    );
    using calc = conn.bootstrap(Calculator_Client);
    const steps = await runClient(calc, counter, () => {});
    await conn.close();
    return summary(steps);
  },

  /** A server-side exception arrives as a typed RpcError. */
  async serverError(url: string) {
    const conn = rt.connectStream(await connectWebSocket(url));
    try {
      using calc = conn.bootstrap(Calculator_Client);
      using op = calc.getOperator((p) => (p.op = Calculator_Operator.add)).pipeline.func;
      using r = op.call((p) => p.initParams(3));
      await r;
      return { isRpcError: false, type: null, message: "no error" };
    } catch (e) {
      return errorInfo(e);
    } finally {
      await conn.close();
    }
  },

  /**
   * Starts an evaluation the server cannot finish (it calls back a page function that answers
   * only when canceled); resolves once the server has called it.
   */
  async startPending(url: string) {
    const conn = rt.connectStream(await connectWebSocket(url));
    const calc = conn.bootstrap(Calculator_Client);
    let called!: () => void;
    const reached = new Promise<void>((r) => (called = r));
    const never = new Calculator_Function_Client(
      Calculator_Function.server({
        call(ctx) {
          called();
          ctx.allowCancellation();
          return new Promise<void>((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
          );
        },
      }),
    );
    const call = calc.evaluate((p) => {
      const c = p.initExpression().initCall();
      c.function = never;
      c.initParams(0);
    });
    const outcome = (async () => {
      const [disconnected, error] = await Promise.all([
        conn.onDisconnect().then(() => true),
        call.then(
          () => null,
          (e: unknown) => errorInfo(e),
        ),
      ]);
      never.close();
      calc.close();
      return { disconnected, error };
    })();
    pending = { outcome };
    await reached;
    return true;
  },

  /** What became of the pending call once the server went away. */
  async pendingOutcome() {
    return pending!.outcome;
  },

  /** The calculator served from a Web Worker, called over the worker's port. */
  async worker() {
    const w = new Worker("worker.js", { type: "module" });
    const conn = rt.connectStream(new MessagePortTransport(w));
    try {
      using calc = conn.bootstrap(Calculator_Client);
      const counter = { roundTrips: 0 };
      return summary(await runClient(calc, counter, () => {}));
    } finally {
      await conn.close();
      w.terminate();
    }
  },

  /** Both ends in the page, over a MessageChannel: the DOM MessagePort path (start, close). */
  async channel() {
    const { port1, port2 } = new MessageChannel();
    const server = rt.newServer(calculatorServer());
    const served = server.accept(new MessagePortTransport(port2));
    const conn = rt.connectStream(new MessagePortTransport(port1));
    using calc = conn.bootstrap(Calculator_Client);
    using v = calc.evaluate((p) => (p.initExpression().literal = 42)).pipeline.value;
    using r = v.read();
    const value = (await r).value;
    await conn.close();
    await served; // the server saw the end of the stream
    return value;
  },
};

(globalThis as { tests?: typeof tests }).tests = tests;
