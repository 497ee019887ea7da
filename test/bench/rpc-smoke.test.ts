// Smoke test of the RPC benchmarks (bench/rpc): the workloads compute the right answers and the
// benchmark programs run, with tiny counts. No timing assertions.
//
// - In-process: capnts, grpc-js, capnweb and raw-echo servers (bench/rpc/serve.ts) and the
//   benchmark clients (bench/rpc/client.ts) over TCP and a Unix socket: echoed payloads are
//   byte-exact, chains return n = 3, streams' finish() totals match what was written, raw frames
//   split across reads are put back together and the raw sink counts them (bench/rpc/raw.ts);
//   then every benchmark of every TS
//   client runs for a few milliseconds with --verify semantics.
// - The bulk-transfer driver (bench/rpc/bulk-main.ts --from-source): TS→TS and Node raw, every
//   byte counted by the servers.
// - The driver (bench/rpc/main.ts --smoke --from-source), as processes: the TS pairs (and the
//   Node raw baseline), the memory
//   section (connections opened, counted by the server, all closed again), and the C++ pairs
//   (TS client → C++ server, C++ client → TS server, C++ ↔ C++). The C++ pairs need g++, capnp
//   and libcapnp-dev: they fail when CI is set and the toolchain is missing, and skip otherwise.
// - The in-process CPU benchmark (bench/rpc/inproc.ts, through tsx): its line per benchmark and
//   the allocation sites of --alloc-sites.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { Runtime } from "capnts/node";
import {
  type BenchClient,
  capntsClient,
  capnwebClient,
  grpcClient,
  rawEchoClient,
  runBenches,
} from "../../bench/rpc/client.js";
import { type Address, BENCHES, type BenchLine, payload, sameBytes } from "../../bench/rpc/common.js";
import { Echo_Client } from "../../bench/rpc/gen/bench.capnp.js";
import { GrpcEchoClient, grpcEcho } from "../../bench/rpc/impls.js";
import { connectNet, encodeFrame, frameReader } from "../../bench/rpc/raw.js";
import { type RunningServer, serve } from "../../bench/rpc/serve.js";
import { toolchainProblem } from "../interop/build.mjs";

const root = join(import.meta.dirname, "..", "..");
const problem = await toolchainProblem();
const cppSkip =
  problem !== null && process.env.CI === undefined ? `C++ toolchain missing: ${problem}` : false;

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "capnts-rpc-smoke-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function addresses(name: string): Address[] {
  return [
    { transport: "tcp", host: "127.0.0.1", port: 0, path: "" },
    { transport: "unix", host: "", port: 0, path: join(dir, `${name}.sock`) },
  ];
}

const SIZES = [0, 1, 16, 1000, 65536, 300000];

/** Runs every benchmark `c` has for a few milliseconds, payloads verified; each must make calls. */
async function tinyRun(c: BenchClient, what: string): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  const o = { durationMs: 5, warmupMs: 1, outstanding: 8, payloadBytes: 16, verify: true };
  assert.ok(await runBenches(c, BENCHES, o, (l) => lines.push(l)), JSON.stringify(lines));
  for (const l of lines) assert.ok((l.ops ?? 0) > 0, `${what} ${l.bench} made calls`);
  return lines;
}

describe("capnts Echo (in-process, TCP and Unix socket)", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve("capnts", addresses("capnts"));
  });
  after(() => server.close());

  for (const t of ["tcp", "unix"] as const) {
    it(`${t}: echo returns the payload, chains return n + 3, streams count every write`, async () => {
      const a = server.addresses.find((x) => x.transport === t)!;
      const rt = Runtime.init();
      try {
        const conn = await rt.connect(t === "tcp" ? `127.0.0.1:${a.port}` : `unix:${a.path}`);
        using echo = conn.bootstrap(Echo_Client);
        for (const n of SIZES) {
          const data = payload(n);
          using p = echo.echo((b) => {
            b.data = data;
          });
          const r = await p;
          assert.ok(sameBytes(r.data, data), `echo of ${n} bytes`);
        }
        // 64 outstanding, each with its own payload.
        const calls = Array.from({ length: 64 }, (_, i) => {
          const data = payload(i + 1).map((x) => x ^ i);
          const p = echo.echo((b) => {
            b.data = data;
          });
          return p.then((r) => {
            assert.ok(sameBytes(r.data, data), `outstanding call ${i}`);
            p.cancel();
          });
        });
        await Promise.all(calls);
        // Pipelined chain.
        {
          using p1 = echo.next((b) => {
            b.n = 10;
          });
          using e1 = p1.pipeline.echo;
          using p2 = e1.next((b) => {
            b.n = 20;
          });
          using e2 = p2.pipeline.echo;
          using p3 = e2.next((b) => {
            b.n = 30;
          });
          assert.equal((await p3).n, 31);
          assert.equal((await p1).n, 11);
        }
        // Streams: totals since the previous finish().
        for (const [size, count] of [
          [1024, 200],
          [65536, 20],
        ] as const) {
          const data = payload(size);
          for (let i = 0; i < count; i++) {
            await echo.write((b) => {
              b.data = data;
            });
          }
          using f = echo.finish();
          const totals = await f;
          assert.equal(totals.writes, BigInt(count));
          assert.equal(totals.bytes, BigInt(count * size));
        }
        {
          using f = echo.finish();
          const totals = await f;
          assert.equal(totals.writes, 0n, "finish() resets the counters");
        }
      } finally {
        await rt.shutdown();
      }
    });
  }
});

describe("grpc-js and capnweb echo (in-process)", () => {
  let g: RunningServer;
  let w: RunningServer;
  before(async () => {
    [g, w] = await Promise.all([serve("grpc", addresses("grpc")), serve("capnweb", addresses("capnweb"))]);
  });
  after(async () => {
    await Promise.all([g.close(), w.close()]);
  });

  for (const t of ["tcp", "unix"] as const) {
    it(`${t}: grpc-js echoes the payload`, async () => {
      const a = g.addresses.find((x) => x.transport === t)!;
      const c = new GrpcEchoClient(
        t === "tcp" ? `127.0.0.1:${a.port}` : `unix:${a.path}`,
        grpc.credentials.createInsecure(),
      );
      try {
        await new Promise<void>((resolve, reject) =>
          c.waitForReady(Date.now() + 30000, (e) => (e ? reject(e) : resolve())),
        );
        for (const n of [0, 16, 1000, 65536]) {
          const data = Buffer.from(payload(n));
          assert.ok(sameBytes(await grpcEcho(c, data), data), `grpc echo of ${n} bytes`);
        }
      } finally {
        c.close();
      }
    });
  }
  it("capnweb echoes the payload and pipelines next()", async () => {
    for (const t of ["tcp", "unix"] as const) {
      const c = await capnwebClient(w.addresses.find((x) => x.transport === t)!);
      try {
        const lines = await tinyRun(c, t);
        assert.deepEqual(
          lines.map((l) => l.bench),
          ["echo-sequential", "chain-pipelined", "chain-awaited", "echo-outstanding"],
        );
      } finally {
        await c.close();
      }
    }
  });
});

describe("node:net raw sink, the bulk-transfer floor (in-process)", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve("raw-sink", addresses("sink"));
  });
  after(() => server.close());

  for (const t of ["tcp", "unix"] as const) {
    it(`${t}: counts every frame's payload, whatever the reads, and answers an empty frame`, async () => {
      const s = await connectNet(server.addresses.find((x) => x.transport === t)!);
      try {
        const got: Buffer[] = [];
        const answers: bigint[] = [];
        let wanted = 0;
        let wake: () => void = () => {};
        s.on("data", (c: Buffer) => {
          got.push(c);
          const all = Buffer.concat(got);
          while (answers.length * 8 + 8 <= all.length) answers.push(all.readBigUInt64LE(answers.length * 8));
          if (answers.length >= wanted) wake();
        });
        const answer = (): Promise<bigint> => {
          wanted++;
          return new Promise<bigint>((resolve) => {
            wake = () => resolve(answers[wanted - 1]!);
            if (answers.length >= wanted) wake();
          });
        };
        const sizes = [1, 16, 1000, 65536, 300000, 3];
        const stream = Buffer.concat(sizes.map((n) => encodeFrame(payload(n))));
        // The first frames a byte at a time (length prefixes split too), the rest in one write.
        const first = 4 + 1 + 4 + 16 + 2;
        for (let i = 0; i < first; i++) s.write(stream.subarray(i, i + 1));
        s.write(stream.subarray(first));
        s.write(encodeFrame(payload(0)));
        const total = sizes.reduce((a, b) => a + b, 0);
        assert.equal(await answer(), BigInt(total));
        // The count starts again after each answer.
        s.write(Buffer.concat([encodeFrame(payload(7)), encodeFrame(payload(0))]));
        assert.equal(await answer(), 7n);
      } finally {
        s.destroy();
      }
    });
  }
});

describe("node:net raw echo (in-process)", () => {
  let server: RunningServer;
  before(async () => {
    server = await serve("raw-echo", addresses("raw"));
  });
  after(() => server.close());

  it("frameReader puts frames split across reads back together, in order", () => {
    const frames = [payload(0), payload(16), payload(1000), payload(3)].map(encodeFrame);
    const all = Buffer.concat(frames);
    // Every way of cutting the stream in two, and one byte at a time.
    const cuts = [...Array.from({ length: all.length + 1 }, (_, i) => [i]), Array.from(all.keys())];
    for (const cut of cuts) {
      const got: Buffer[] = [];
      const read = frameReader((f) => got.push(Buffer.from(f)));
      let at = 0;
      for (const c of [...cut, all.length]) {
        read(all.subarray(at, c));
        at = c;
      }
      assert.deepEqual(got, frames, `cut at ${cut.length > 1 ? "every byte" : cut[0]}`);
    }
  });

  for (const t of ["tcp", "unix"] as const) {
    it(`${t}: the server echoes whole frames, whatever the reads`, async () => {
      const s = await connectNet(server.addresses.find((x) => x.transport === t)!);
      try {
        const frames = SIZES.map((n) => encodeFrame(payload(n)));
        const want = Buffer.concat(frames);
        const got: Buffer[] = [];
        let n = 0;
        const done = new Promise<void>((resolve) =>
          s.on(
            "data",
            frameReader((f) => {
              got.push(Buffer.from(f));
              if (++n === frames.length) resolve();
            }),
          ),
        );
        // The first frame a byte at a time, the rest in one write.
        const first = frames[0]!.length + frames[1]!.length;
        for (let i = 0; i < first; i++) s.write(want.subarray(i, i + 1));
        s.write(want.subarray(first));
        await done;
        assert.ok(sameBytes(Buffer.concat(got), want));
      } finally {
        s.destroy();
      }
    });

    it(`${t}: the raw-echo client runs both echo benchmarks`, async () => {
      const c = await rawEchoClient(server.addresses.find((x) => x.transport === t)!);
      try {
        const lines = await tinyRun(c, t);
        assert.deepEqual(
          lines.map((l) => [l.bench, l.client]),
          [
            ["echo-sequential", "node-raw"],
            ["echo-outstanding", "node-raw"],
          ],
        );
      } finally {
        await c.close();
      }
    });
  }
});

describe("benchmark clients run every benchmark (tiny durations, payloads verified)", () => {
  let servers: RunningServer[] = [];
  before(async () => {
    servers = await Promise.all([serve("capnts", addresses("c2")), serve("grpc", addresses("g2"))]);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  for (const t of ["tcp", "unix"] as const) {
    it(`${t}: capnts and grpc-js clients`, async () => {
      const clients: BenchClient[] = [
        await capntsClient(servers[0]!.addresses.find((x) => x.transport === t)!),
        await grpcClient(servers[1]!.addresses.find((x) => x.transport === t)!),
      ];
      for (const c of clients) {
        try {
          const lines = await tinyRun(c, c.name);
          assert.deepEqual(
            lines.map((l) => l.bench),
            BENCHES.filter((b) => c.supports.includes(b)),
          );
        } finally {
          await c.close();
        }
      }
    });
  }
});

interface DriverRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: {
    samples: { pair: string; transport: string; bench: string; opsPerSec: number }[];
    memory: {
      idle: { server: string; n: number; left?: number }[];
      hold: { server: string; held: number; left?: number }[];
    };
    errors: string[];
  };
}

/** Runs a bench/rpc program through tsx; what it printed and its exit code (killed after `ms`). */
function benchProgram(
  script: string,
  args: string[],
  ms: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(root, "bench/rpc", script), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), ms);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs bench/rpc/main.ts (or `script`, another driver there) through tsx with --smoke
 * --from-source (no build step, tiny counts).
 */
async function driver(args: string[], script = "main.ts"): Promise<DriverRun> {
  const json = join(dir, `run-${Math.random().toString(36).slice(2)}.json`);
  const r = await benchProgram(script, ["--smoke", "--from-source", `--json=${json}`, ...args], 100_000);
  let parsed: DriverRun["json"];
  try {
    parsed = JSON.parse(readFileSync(json, "utf8")) as DriverRun["json"];
  } catch (e) {
    throw new Error(`no JSON from the driver (exit ${r.code}): ${String(e)}\n${r.stderr.slice(-3000)}`);
  }
  return { ...r, json: parsed };
}

function expectSamples(r: DriverRun, pairs: Record<string, readonly string[]>): void {
  assert.deepEqual(r.json.errors, [], r.stderr.slice(-3000));
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  for (const [pair, benches] of Object.entries(pairs)) {
    for (const t of ["tcp", "unix"]) {
      for (const b of benches) {
        const s = r.json.samples.find((x) => x.pair === pair && x.transport === t && x.bench === b);
        assert.ok(s !== undefined && s.opsPerSec > 0, `${pair} ${t} ${b} measured`);
      }
    }
  }
  assert.match(r.stdout, /### RPC over loopback TCP/);
  assert.match(r.stdout, /### RPC over Unix socket/);
  assert.match(r.stdout, /### Targets \(issues 7 and 17\)/);
}

describe("driver (bench/rpc/main.ts --smoke)", () => {
  it("TS pairs: TS↔TS, grpc-js, capnweb and Node raw over TCP and Unix", async () => {
    const r = await driver(["--pair=ts-ts,grpc,capnweb,raw", "--no-memory"]);
    expectSamples(r, {
      "TS↔TS": BENCHES,
      "grpc-js": ["echo-sequential", "echo-outstanding"],
      capnweb: ["echo-sequential", "chain-pipelined", "chain-awaited", "echo-outstanding"],
      "Node raw": ["echo-sequential", "echo-outstanding"],
    });
    assert.match(r.stdout, /\| TS↔TS \/ Node raw \|/);
  });

  it("memory: idle connections are counted by the server and all closed again", async () => {
    const r = await driver(["--memory-only"]);
    assert.deepEqual(r.json.errors, [], r.stderr.slice(-3000));
    assert.equal(r.code, 0);
    const idle = r.json.memory.idle.filter((x) => x.left !== undefined);
    assert.ok(idle.length >= 3, "capnts (capnts and raw clients) and node:net rows");
    for (const x of idle) assert.equal(x.left, 0, `${x.server}: every connection closed`);
    const hold = r.json.memory.hold.find((x) => x.server === "capnts");
    assert.ok(hold !== undefined && hold.held === 50 && hold.left === 0, JSON.stringify(r.json.memory.hold));
    assert.match(r.stdout, /### Memory per idle connection/);
  });

  it("C++ pairs: C++↔C++, TS→C++, C++→TS", { skip: cppSkip }, async () => {
    assert.equal(problem, null, `the C++ toolchain is required in CI: ${problem}`);
    const r = await driver(["--pair=cpp-cpp,ts-cpp,cpp-ts", "--no-memory"]);
    expectSamples(r, { "C++↔C++": BENCHES, "TS→C++": BENCHES, "C++→TS": BENCHES });
  });
});

describe("driver (bench/rpc/bulk-main.ts --from-source)", () => {
  it("TS→TS and Node raw move every byte, in 64 KiB and 1 KiB writes, over TCP and Unix", async () => {
    // The senders check the server's count of every transfer; a mismatch fails the run.
    const r = await driver(["--rounds=1", "--mib=1", "--mib-1k=0.0625", "--pair=ts-ts,raw"], "bulk-main.ts");
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const rows = r.json as unknown as {
      transport: string;
      writeBytes: number;
      pair: string;
      mbPerSec: number[];
    }[];
    for (const pair of ["TS→TS", "Node raw"])
      for (const transport of ["tcp", "unix"])
        for (const writeBytes of [65536, 1024]) {
          const x = rows.find(
            (y) => y.pair === pair && y.transport === transport && y.writeBytes === writeBytes,
          );
          assert.ok(
            x !== undefined && x.mbPerSec.length === 1 && x.mbPerSec[0]! > 0,
            `${pair} ${transport} ${writeBytes}`,
          );
        }
    assert.match(r.stdout, /\| loopback TCP \| 64 KiB \| TS→TS \| [0-9.,]+ \(±0%\) \| [0-9.]+x \|/);
  });
});

describe("in-process (bench/rpc/inproc.ts)", () => {
  it("prints ops/s, CPU and heap per op, and with --alloc-sites the functions that allocated most", async () => {
    const out = await benchProgram(
      "inproc.ts",
      ["echo-sequential", "--ms", "30", "--rounds", "1", "--alloc-sites=3"],
      60_000,
    );
    assert.equal(out.code, 0, out.stderr.slice(-3000));
    const lines = out.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^echo-sequential +[\d,]+ ops\/s +CPU +[\d.]+ µs\/op .* heap (gc|\d+ B\/op)$/);
    assert.equal(lines.length, 4, out.stdout);
    for (const l of lines.slice(1)) assert.match(l, /^ +\d+ B\/op {2}\S/);
  });
});
