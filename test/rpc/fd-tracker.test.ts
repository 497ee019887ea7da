/**
 * How received FDs are matched to messages (src/rpc/fd.ts IncomingFdTracker), without sockets:
 * the FDs that come with a chunk belong to the frame that starts inside the chunk and reaches at
 * least to its end (a Unix stream socket returns a message's FDs with the read of its first byte
 * and stops reading within that message). Extra FDs past maxFdsPerMessage are closed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { IncomingFdTracker, setFdCloser } from "../../src/rpc/fd.js";

function withCloser(): number[] {
  const closed: number[] = [];
  setFdCloser((fd) => closed.push(fd));
  return closed;
}

test("IncomingFdTracker: FDs go to the frame that starts in their chunk and reaches its end", () => {
  const closed = withCloser();
  const t = new IncomingFdTracker(4);
  // Chunk 1 (100 bytes): a whole 40-byte frame, then the first 60 bytes of a 200-byte frame
  // that was sent with FDs 7 and 8.
  t.chunk(100, [7, 8]);
  assert.equal(t.frame(40), null);
  // Chunk 2 (140 bytes): the rest of the 200-byte frame; no FDs.
  t.chunk(140, undefined);
  assert.deepEqual(t.frame(200), [7, 8]);
  // Chunk 3: exactly one frame with FD 9; chunk 4: two frames, the second with FD 10.
  t.chunk(16, [9]);
  assert.deepEqual(t.frame(16), [9]);
  t.chunk(48, [10]);
  assert.equal(t.frame(24), null);
  assert.deepEqual(t.frame(24), [10]);
  assert.deepEqual(closed, []);
});

test("IncomingFdTracker: maxFdsPerMessage keeps the first FDs and closes the rest", () => {
  const closed = withCloser();
  const t = new IncomingFdTracker(1);
  t.chunk(32, [3, 4, 5]);
  assert.deepEqual(t.frame(32), [3]);
  assert.deepEqual(closed, [4, 5]);
  const none = new IncomingFdTracker(0);
  none.chunk(8, [6]);
  assert.equal(none.frame(8), null);
  assert.deepEqual(closed, [4, 5, 6]);
});

test("IncomingFdTracker: FDs still pending when the connection ends are closed", () => {
  const closed = withCloser();
  const t = new IncomingFdTracker(2);
  t.chunk(10, [11]); // the frame never completes
  t.dispose();
  assert.deepEqual(closed, [11]);
});
