/**
 * What TwoPartyVatNetwork hands its byte stream: every message sent in one turn in one write, and
 * big segments passed as they are (a gathered write) rather than copied, with bytes identical to
 * the standard framing either way.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { newByteStreamPair, TwoPartyClient, TwoPartyServer } from "capnts/rpc";
import { encodeFrame } from "capnts/serialize";
import { MessageBuilder } from "capnts/wire";
import { MessageB } from "../../src/rpc/protocol.js";
import { type ByteStream, TwoPartyVatNetwork } from "../../src/rpc/two-party.js";
import { TestStreaming, TestStreaming_Client } from "../interop/gen/test.capnp.js";

/** A byte stream that records what it is given, one entry (its chunks) per write. */
function recordingStream(gathered: boolean): ByteStream & { writes: Uint8Array[][] } {
  const writes: Uint8Array[][] = [];
  const s: ByteStream = {
    start() {},
    write(data) {
      writes.push([data]);
    },
    async end() {},
  };
  if (gathered) s.writev = (chunks) => writes.push([...chunks]);
  return Object.assign(s, { writes });
}

/** A Call message whose params are `bytes` bytes of Data (a pattern). */
function message(bytes: number, firstSegmentWords?: number): MessageBuilder {
  const m = new MessageBuilder(firstSegmentWords === undefined ? {} : { firstSegmentWords });
  const call = m.initRoot(MessageB).initCall();
  call.questionId = bytes;
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 7 + bytes) & 0xff;
  call.initParams().content.setData(data);
  return m;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

for (const gathered of [true, false]) {
  test(`messages sent in one turn leave in one ${gathered ? "gathered write; big segments are not copied" : "write (a stream without writev)"}, framed like encodeFrame`, async () => {
    const stream = recordingStream(gathered);
    const net = new TwoPartyVatNetwork(stream, "client");
    // Small, big (a 40 KiB segment of its own), small, big in a multi-segment message, small.
    const msgs = [message(10), message(40 * 1024), message(100), message(70 * 1024, 16), message(3)];
    for (const m of msgs) net.send(m);
    assert.equal(stream.writes.length, 0, "nothing is written before the turn ends");
    await new Promise<void>((r) => queueMicrotask(r));
    assert.equal(stream.writes.length, 1);
    const chunks = stream.writes[0]!;
    const expected = concat(msgs.map((m) => encodeFrame(m.getSegmentsForOutput())));
    assert.deepEqual(concat(chunks), expected);
    const bigSegments = msgs.flatMap((m) => m.getSegmentsForOutput()).filter((s) => s.length >= 16 * 1024);
    assert.equal(bigSegments.length, 2);
    for (const seg of bigSegments) {
      const same = chunks.some((c) => c.buffer === seg.buffer && c.byteOffset === seg.byteOffset);
      assert.equal(same, gathered, "a big segment is handed over as it is only in a gathered write");
    }
    if (gathered) assert.equal(chunks.length, 5, "three copied runs around two big segments");
  });
}

test("a turn of small messages is one copied chunk even when the stream can gather", async () => {
  const stream = recordingStream(true);
  const net = new TwoPartyVatNetwork(stream, "client");
  const msgs = [message(10), message(20), message(30)];
  for (const m of msgs) net.send(m);
  await new Promise<void>((r) => queueMicrotask(r));
  assert.equal(stream.writes.length, 1);
  assert.equal(stream.writes[0]!.length, 1);
  assert.deepEqual(stream.writes[0]![0], concat(msgs.map((m) => encodeFrame(m.getSegmentsForOutput()))));
});

test("a loop awaiting each streaming write sends its calls in a few writes, not one each", async () => {
  // While the window is open, each write's promise is settled and the loop sends the next call
  // a few microtasks later: those calls gather into one write (C++ 1.x batches with evalLast).
  const [a, b] = newByteStreamPair();
  let writes = 0;
  const counted: ByteStream = {
    start: (onData, onEnd) => a.start(onData, onEnd),
    write(data) {
      writes++;
      a.write(data);
    },
    end: () => a.end(),
  };
  let received = 0;
  const server = new TwoPartyServer(
    TestStreaming.server({
      doStreamI() {
        received++;
      },
      finishStream(ctx) {
        ctx.results.totalI = received;
      },
    }),
  );
  void server.accept(b);
  const client = new TwoPartyClient(counted, undefined, "client", { streamWindow: 1024 * 1024 });
  using cap = client.bootstrap(TestStreaming_Client);
  await cap.whenResolved();
  const before = writes;
  for (let i = 0; i < 200; i++) await cap.doStreamI((p) => (p.i = i));
  {
    using done = cap.finishStream();
    assert.equal((await done).totalI, 200);
  }
  const used = writes - before;
  assert.ok(used <= 10, `200 streaming calls and a finish took ${used} writes`);
  await client.close();
  await server.close();
});

test("a message other than a streaming call leaves at the end of its turn, with the streaming calls before it", async () => {
  const stream = recordingStream(false);
  const net = new TwoPartyVatNetwork(stream, "client");
  const msgs = [message(7), message(8)];
  net.send(msgs[0]!, true);
  net.send(msgs[1]!);
  await new Promise<void>((r) => queueMicrotask(r));
  assert.equal(stream.writes.length, 1);
  assert.deepEqual(stream.writes[0]![0], concat(msgs.map((m) => encodeFrame(m.getSegmentsForOutput()))));
  // Streaming calls alone wait for more, but not once 64 KiB are queued.
  net.send(message(40 * 1024), true);
  net.send(message(30 * 1024), true);
  await new Promise<void>((r) => queueMicrotask(r));
  assert.equal(stream.writes.length, 2);
});

test("a streaming call sent alone is written a few microtasks later, and at once by shutdown", async () => {
  const stream = recordingStream(false);
  const net = new TwoPartyVatNetwork(stream, "client");
  net.send(message(5), true);
  for (let i = 0; i < 10 && stream.writes.length === 0; i++) await Promise.resolve();
  assert.equal(stream.writes.length, 1, "a held streaming call is written once the sender stops");
  net.send(message(6), true);
  await net.stream.shutdown();
  assert.equal(stream.writes.length, 2, "shutdown writes what is held");
});
