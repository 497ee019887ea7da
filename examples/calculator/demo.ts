/**
 * The calculator demo: starts the server on loopback, runs the client against it, and counts the
 * network round trips each step took — promise pipelining lets dependent calls go out together.
 *
 *   node --import tsx examples/calculator/demo.ts        (what `npm run demo` runs)
 *
 * A round trip here is a batch of calls the client had to send before it could go on: the
 * runtime coalesces everything sent in one turn into one write, so we count the client's writes
 * that carry at least one Call (Finish and Release messages that follow answers do not count).
 */

import { Message_Reader } from "capnts/gen/rpc.capnp.js";
import { nodeNet, Runtime } from "capnts/node";
import type { ByteStream } from "capnts/rpc";
import { decodeFrames } from "capnts/serialize";
import { MessageReader } from "capnts/wire";
import { Calculator_Client } from "./calculator.capnp.js";
import { runClient } from "./client.js";
import { calculatorServer } from "./server.js";

/** Wraps a stream and counts the writes that carry a Call or a Bootstrap. */
export function countingStream(inner: ByteStream): ByteStream & { roundTrips: number } {
  const s = {
    roundTrips: 0,
    start: inner.start.bind(inner),
    end: inner.end.bind(inner),
    write(data: Uint8Array) {
      for (const segs of decodeFrames(data)) {
        const w = new MessageReader(segs).getRoot(Message_Reader).which;
        if (w === "call" || w === "bootstrap") {
          s.roundTrips++;
          break;
        }
      }
      inner.write(data);
    },
  };
  return s;
}

export async function demo(log: (s: string) => void = console.log): Promise<boolean> {
  return Runtime.run(async (rt) => {
    const server = rt.newServer(calculatorServer());
    const { address } = await server.listen("127.0.0.1:0");
    log(`Calculator server listening on ${address}`);
    const stream = countingStream(await nodeNet.connect(address));
    const client = rt.connectStream(stream);
    using calc = client.bootstrap(Calculator_Client);
    await calc.whenResolved();
    log("Client connected. Each line: result, calls made, network round trips it took.");
    const steps = await runClient(calc, stream, log);
    const ok = steps.every((s) => Math.abs(s.value - s.expected) < 1e-9);
    const piped = steps.find((s) => s.name.startsWith("evaluate(4*6)"))!;
    const plain = steps.find((s) => s.name.startsWith("the same"))!;
    log("");
    log(
      `Pipelining: ${piped.calls} dependent calls in ${piped.roundTrips} round trip; ` +
        `awaiting each one took ${plain.roundTrips} (${plain.roundTrips - piped.roundTrips} saved).`,
    );
    const total = steps.reduce((n, s) => n + s.calls, 0);
    const rts = steps.reduce((n, s) => n + s.roundTrips, 0);
    log(
      `All steps: ${total} calls in ${rts} round trips. ${ok ? "All results correct." : "SOME RESULTS WRONG."}`,
    );
    return ok && piped.roundTrips === 1 && plain.roundTrips > piped.roundTrips;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  demo().then(
    (ok) => process.exit(ok ? 0 : 1),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
