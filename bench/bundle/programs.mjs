// The two programs whose browser bundles the size check measures (test/package/package.test.ts,
// on the installed package) and bench/bundle/sizes.mjs breaks down (on src/): each imports the
// bindings it uses from ./gen/ (calculator.capnp from examples/calculator, reading.capnp below).

/** The serialization program's schema. */
export const READING_SCHEMA = `@0xe1f0a2b3c4d5e6f7;
struct Reading {
  id @0 :UInt64;
  station @1 :Text;
  celsius @2 :Float64;
  samples @3 :List(Int32);
  ok @4 :Bool;
}
`;

/** One struct built, framed, unframed and read (and printed without capnts/schema). */
export const SERIALIZE_PROGRAM = `import { decodeFrame, encodeFrame, MessageBuilder, MessageReader } from "capnts";
import { Reading } from "./gen/reading.capnp.js";

export function roundTrip(): string {
  const m = new MessageBuilder();
  const b = m.initRoot(Reading.Builder);
  b.id = 7n;
  b.station = "north";
  b.celsius = 21.5;
  b.ok = true;
  const s = b.initSamples(3);
  for (let i = 0; i < 3; i++) s.set(i, i * 10);
  const bytes = encodeFrame(m.getSegmentsForOutput());
  const r = new MessageReader(decodeFrame(bytes).segments).getRoot(Reading.Reader);
  return [r.id, r.station, r.celsius, r.samples.toArray().join("+"), r.ok, r.toString()].join(" ");
}
`;

/** The calculator client over a WebSocket, with a pipelined call. */
export const CLIENT_PROGRAM = `import { MessageStreamClient } from "capnts/rpc";
import { connectWebSocket, type WebSocketConstructor } from "capnts/websocket";
import { Calculator } from "./gen/calculator.capnp.js";

/** A calculator client over a WebSocket (the page's own; Node 20 passes the ws package's). */
export async function connect(url: string, WebSocket?: WebSocketConstructor) {
  const client = new MessageStreamClient(await connectWebSocket(url, WebSocket ? { WebSocket } : {}));
  const calc = client.bootstrap(Calculator.Client);
  return {
    async evaluate(x: number): Promise<number> {
      using e = calc.evaluate((p) => {
        p.initExpression().literal = x;
      });
      using read = e.pipeline.value.read();
      return (await read).value;
    },
    close: () => client.close(),
  };
}
`;
