// `capnts call` (src/cli/call.ts) over real sockets, TCP and Unix: against the TS calculator
// (examples/calculator) and the TS interop server's TestBootstrap, against the C++ fixtures
// (calculator-server, test-server; built by ./build.mjs), and its exit statuses and messages on
// a remote exception, a lost connection, a refused connection, a timeout and usage errors.
// The calls run in this process (call() with its output captured; starting the command through
// tsx costs seconds each), the TS servers too; the last tests run bin/capnts itself.
//
// Pipelining is checked with TestPipeline.getCapPipelineOnly, which never returns and answers
// calls on `outBox.cap` through setPipeline(): the pipelined call can only return if it was sent
// without waiting for the call before it.
//
// Run: node scripts/run-tests.mjs cli-call
// The C++ half needs g++, capnp and libcapnp-dev: fails when CI is set and they are missing,
// skips otherwise.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Runtime } from "capnts/node";
import type { Server } from "capnts/rpc";
import { Calculator } from "../../examples/calculator/calculator.capnp.js";
import { calculatorServer } from "../../examples/calculator/impl.js";
import { call } from "../../src/cli/call.js";
import { UsageError } from "../../src/cli/usage.js";
import { Counters, newTestBootstrap } from "../fixtures/test-impls.js";
import { buildInterop, toolchainProblem } from "./build.mjs";
import { killAll, ROOT, type RunningServer, startServer } from "./ts/process.js";

const CAPNTS = join(ROOT, "bin", "capnts");
const CALC = join(ROOT, "examples", "calculator", "calculator.capnp");
const TEST = join(ROOT, "test", "interop", "schema", "test.capnp");

const problem = await toolchainProblem();
const skipCpp = problem === null ? false : `C++ toolchain missing: ${problem}`;

let binDir = "";
let tmp = "";
const servers: RunningServer[] = [];
const rt = new Runtime();

before(
  async () => {
    tmp = mkdtempSync(join(tmpdir(), "capnts-call-"));
    if (problem === null) ({ binDir } = await buildInterop());
  },
  { timeout: 300_000 },
);

after(async () => {
  await rt.shutdown();
  await Promise.all(servers.map((s) => s.stop()));
  killAll();
  rmSync(tmp, { recursive: true, force: true });
});

test("CI must have the C++ toolchain", () => {
  if (problem !== null && process.env["CI"]) assert.fail(problem);
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `capnts ARGS` in this process (ARGS[0] is "call"); a usage error is status 2 and its message. */
async function capnts(args: string[]): Promise<Run> {
  assert.equal(args[0], "call");
  let stdout = "";
  let stderr = "";
  const out = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
  try {
    const status = await call(args.slice(1), out);
    return { status, stdout, stderr };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { status: 2, stdout, stderr: `${stderr}${e.message}\n` };
  }
}

/** Runs bin/capnts ARGS to completion (killed after 30 s). */
function capntsCommand(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      CAPNTS,
      args,
      { cwd: ROOT, env: { ...process.env, CAPNTS_FROM_SOURCE: "1" }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** A server's LISTENING address as capnts takes it (the fixtures print `tcp:HOST:PORT`). */
const addressOf = (s: RunningServer): string => s.address.replace(/^tcp:/, "");

let socketCount = 0;
const listenOn = (transport: "tcp" | "unix"): string =>
  transport === "tcp" ? "tcp:127.0.0.1:0" : `unix:${join(tmp, `s${socketCount++}.sock`)}`;

/** A TS server in this process: every connection gets its own bootstrap (as the fixtures do). */
async function tsServer(serve: "test" | "demo-calculator", transport: "tcp" | "unix"): Promise<string> {
  const server = rt.newServer({
    createFor: (): Server =>
      serve === "test"
        ? newTestBootstrap(new Counters(), {
            peerSide: "client",
            setTraceEncoder: () => {},
            setFlowLimit: () => {},
          })
        : calculatorServer(),
  });
  const info = await server.listen(listenOn(transport).replace(/^tcp:/, ""));
  return info.address;
}

async function cppServer(name: string, transport: "tcp" | "unix"): Promise<string> {
  const s = await startServer(join(binDir, name), [
    "--listen",
    listenOn(transport),
    "--timeout-ms",
    "120000",
  ]);
  servers.push(s);
  return addressOf(s);
}

function ok(r: Run, stdout: string): void {
  assert.equal(r.stderr, "");
  assert.equal(r.stdout, stdout);
  assert.equal(r.status, 0);
}

// ---- calculators ---------------------------------------------------------------------------

const calculators: [string, (t: "tcp" | "unix") => Promise<string>, string | false][] = [
  ["the TS calculator (examples/calculator)", (t) => tsServer("demo-calculator", t), false],
  ["the C++ calculator-server", (t) => cppServer("calculator-server", t), skipCpp],
];

for (const [who, start, skip] of calculators) {
  for (const transport of ["tcp", "unix"] as const) {
    test(`call ${who} over ${transport}: evaluate, then read the pipelined value`, { skip }, async () => {
      const address = await start(transport);
      ok(
        await capnts([
          "call",
          address,
          CALC,
          "Calculator.evaluate",
          "(expression = (literal = 123))",
          "--pipeline",
          "value.read",
        ]),
        "(value = 123)\n",
      );
      // A Value is a capability: printed as the text format prints capabilities.
      ok(
        await capnts([
          "call",
          "--short",
          address,
          CALC,
          "Calculator.evaluate",
          "(expression = (literal = 1))",
        ]),
        "(value = <external capability>)\n",
      );
      ok(
        await capnts([
          "call",
          address,
          CALC,
          "Calculator.getOperator",
          "(op = multiply)",
          "--pipeline",
          "func.call",
          "(params = [6, 2.5])",
        ]),
        "(value = 15)\n",
      );
    });
  }

  test(`call ${who}: a remote exception prints its type and reason, exit 1`, { skip }, async () => {
    const address = await start("tcp");
    const r = await capnts([
      "call",
      address,
      CALC,
      "Calculator.getOperator",
      "(op = add)",
      "--pipeline",
      "func.call",
      "(params = [1])",
    ]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^capnts call: Calculator\.Function\.call failed \(failed\): remote exception: .*(wrong number of parameters|operators take two parameters)/i,
    );
  });
}

// ---- test servers --------------------------------------------------------------------------

const testServers: [string, (t: "tcp" | "unix") => Promise<string>, string | false][] = [
  ["the TS interop server", (t) => tsServer("test", t), false],
  ["the C++ test-server", (t) => cppServer("test-server", t), skipCpp],
];

for (const [who, start, skip] of testServers) {
  for (const transport of ["tcp", "unix"] as const) {
    test(`call ${who} over ${transport}: pipelined calls are sent without waiting (getCapPipelineOnly never returns)`, {
      skip,
    }, async () => {
      const address = await start(transport);
      ok(
        await capnts([
          "call",
          "--timeout",
          "20",
          address,
          TEST,
          "TestBootstrap.testPipeline",
          "--pipeline",
          "cap.getCapPipelineOnly",
          "--pipeline",
          "outBox.cap.foo",
          "(i = 321, j = false)",
        ]),
        '(x = "bar")\n',
      );
    });
  }

  test(`call ${who}: a superclass's method, struct results, an inherited method on a pipelined cap`, {
    skip,
  }, async () => {
    const address = await start("tcp");
    // getCallerId is TestAuthenticatedBootstrap's, which TestBootstrap extends.
    ok(await capnts(["call", address, TEST, "TestBootstrap.getCallerId"]), "(caller = (side = client))\n");
    // foo is TestInterface's, which TestExtends extends.
    ok(
      await capnts([
        "call",
        address,
        TEST,
        "TestBootstrap.testExtends",
        "--pipeline",
        "cap.foo",
        "(i = 321)",
      ]),
      '(x = "bar")\n',
    );
    const r = await capnts([
      "call",
      "--short",
      address,
      TEST,
      "TestBootstrap.testExtends",
      "--pipeline",
      "cap.grault",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\(voidField = void, boolField = true, int8Field = -123, /);
    assert.match(r.stdout, /textField = "really nested"/);
    assert.match(r.stdout, /textList = \["plugh", "xyzzy", "thud"\]/);
    assert.match(r.stdout, /enumField = qux/);
  });

  test(`call ${who}: unimplemented and failed calls exit 1 naming the call, type and reason`, {
    skip,
  }, async () => {
    const address = await start("tcp");
    const r = await capnts(["call", address, TEST, "TestBootstrap.testInterface", "--pipeline", "cap.bar"]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^capnts call: TestInterface\.bar failed \(unimplemented\): remote exception: /);
    // TestExtendsImpl.foo requires i == 321: the failure is reported by the call that failed.
    const f = await capnts([
      "call",
      address,
      TEST,
      "TestBootstrap.testExtends",
      "--pipeline",
      "cap.foo",
      "(i = 1)",
    ]);
    assert.equal(f.status, 1);
    assert.match(f.stderr, /^capnts call: TestExtends\.foo failed \(failed\): remote exception: /);
    // getCap requires n == 234: the pipelined foo fails with it, and the error names getCap.
    const e = await capnts([
      "call",
      address,
      TEST,
      "TestBootstrap.testPipeline",
      "--pipeline",
      "cap.getCap",
      "(n = 1)",
      "--pipeline",
      "outBox.cap.foo",
    ]);
    assert.equal(e.status, 1);
    assert.match(e.stderr, /^capnts call: TestPipeline\.getCap failed \(failed\): remote exception: /);
  });
}

// ---- connection problems -------------------------------------------------------------------

test("call: a refused connection exits 1 and names the address", async () => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const r = await capnts([
    "call",
    `127.0.0.1:${port}`,
    CALC,
    "Calculator.evaluate",
    "(expression = (literal = 1))",
  ]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    new RegExp(`^capnts call: Cannot connect to "127\\.0\\.0\\.1:${port}": .*ECONNREFUSED`),
  );
  const u = await capnts(["call", `unix:${join(tmp, "nobody.sock")}`, CALC, "Calculator.evaluate", "()"]);
  assert.equal(u.status, 1);
  assert.match(u.stderr, /^capnts call: Cannot connect to "unix:.*nobody\.sock": /);
});

test("call: a connection lost during the call exits 1 with a disconnected error", async () => {
  await using own = new Runtime();
  let arrived!: () => void;
  const called = new Promise<void>((r) => {
    arrived = r;
  });
  // A calculator whose evaluate() never returns: the test drops the connection once it arrived.
  const server = own.newServer(
    Calculator.server({
      evaluate() {
        arrived();
        return new Promise<void>(() => {});
      },
      defFunction() {},
      getOperator() {},
    }),
  );
  const { port } = await server.listen("127.0.0.1:0");
  const run = capnts([
    "call",
    `127.0.0.1:${port}`,
    CALC,
    "Calculator.evaluate",
    "(expression = (literal = 1))",
  ]);
  await called;
  await own.shutdown();
  const r = await run;
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^capnts call: Calculator\.evaluate failed \(disconnected\): /);
});

test("call: --timeout gives up on a call that does not return, exit 1", async () => {
  const address = await tsServer("test", "tcp");
  const r = await capnts([
    "call",
    "--timeout",
    "0.5",
    address,
    TEST,
    "TestBootstrap.testMoreStuff",
    "--pipeline",
    "cap.neverReturn",
  ]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, `capnts call: no answer from ${address} within 0.5 s (--timeout)\n`);
});

// ---- no connection needed ------------------------------------------------------------------

test("call --list prints the methods with their signatures, superclasses' methods too", async () => {
  ok(
    await capnts(["call", "--list", CALC, "Calculator"]),
    [
      "interface Calculator @0x8bd88b4ed866b939 {",
      "  evaluate @0 (expression :Calculator.Expression) -> (value :Calculator.Value);",
      "  defFunction @1 (paramCount :Int32, body :Calculator.Expression) -> (func :Calculator.Function);",
      "  getOperator @2 (op :Calculator.Operator) -> (func :Calculator.Function);",
      "}",
      "",
    ].join("\n"),
  );
  const r = await capnts(["call", "--list", "127.0.0.1:1", TEST, "TestExtends"]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.match(lines[0]!, /^interface TestExtends @0x[0-9a-f]+ extends\(TestInterface\) \{$/);
  assert.deepEqual(lines.slice(1), [
    "  qux @0 () -> ();",
    "  corge @1 TestAllTypes -> ();",
    "  grault @2 () -> TestAllTypes;",
    lines[4],
    "  foo @0 (i :UInt32, j :Bool) -> (x :Text);",
    "  bar @1 () -> ();",
    "  baz @2 (s :TestAllTypes) -> ();",
    "}",
    "",
  ]);
  assert.match(lines[4]!, /^ {2}# from TestInterface \(@0x[0-9a-f]+\)$/);
  const more = await capnts(["call", "--list", TEST, "TestMoreStuff.methodWithDefaults"]);
  assert.equal(more.status, 0, more.stderr);
  assert.ok(
    more.stdout.includes(
      '  methodWithDefaults @8 (a :Text, b :UInt32 = 123, c :Text = "foo") -> (d :Text, e :Text = "bar");\n',
    ),
    more.stdout,
  );
  const streaming = await capnts(["call", "--list", TEST, "TestStreaming"]);
  assert.ok(streaming.stdout.includes("  doStreamI @0 (i :UInt32) -> stream;\n"), streaming.stdout);
});

test("call: usage errors exit 2 before connecting (unknown interface, method, field; bad params)", async () => {
  // Nothing listens on port 1: each error must come from the checks made before connecting.
  const cases: [string[], RegExp][] = [
    [
      ["Calculator.evaluat", "()"],
      /Calculator has no method "evaluat"; its methods: evaluate, defFunction, getOperator/,
    ],
    [
      ["Calculater.evaluate"],
      /"Calculater" is not defined in .*calculator\.capnp; its interfaces: Calculator, /,
    ],
    [["Calculator.Expression.foo"], /"Calculator\.Expression" is a struct, not an interface/],
    [
      ["Calculator.evaluate", "(expression = (literl = 1))"],
      /bad params for Calculator\.evaluate: .*no field "literl"/,
    ],
    [["Calculator.evaluate", "(expression = (literal = 1)"], /bad params for Calculator\.evaluate: /],
    [
      ["Calculator.getOperator", "(op = modulo)"],
      /bad params for Calculator\.getOperator: "modulo" is not an enumerant/,
    ],
    [
      ["Calculator.evaluate", "(expression = (literal = 1))", "--pipeline", "value.raed"],
      /Calculator\.Value has no method "raed"/,
    ],
    [
      ["Calculator.evaluate", "()", "--pipeline", "valu.read"],
      /Calculator\.evaluate results have no field "valu"/,
    ],
    [["Calculator.evaluate", "()", "--pipeline", "read"], /--pipeline needs field\.method/],
    [["Calculator.evaluate", "literal"], /params are a struct in text format/],
    [["Calculator"], /name the method as Interface\.method/],
  ];
  for (const [args, message] of cases) {
    const r = await capnts(["call", "127.0.0.1:1", CALC, ...args]);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message, args.join(" "));
  }
  const noArgs = await capnts(["call", "127.0.0.1:1"]);
  assert.equal(noArgs.status, 2);
});

// ---- the command itself --------------------------------------------------------------------

test("bin/capnts call: results on stdout and exit 0; a remote exception exit 1; a usage error exit 2", async () => {
  const address = await tsServer("demo-calculator", "tcp");
  const [good, remote, usage, help] = await Promise.all([
    capntsCommand([
      "call",
      address,
      CALC,
      "Calculator.evaluate",
      "(expression = (literal = 7))",
      "--pipeline",
      "value.read",
    ]),
    capntsCommand([
      "call",
      address,
      CALC,
      "Calculator.getOperator",
      "(op = add)",
      "--pipeline",
      "func.call",
      "()",
    ]),
    capntsCommand(["call", address, CALC, "Calculator.evaluate", "(expression = (literal = nope))"]),
    capntsCommand(["call", "--help"]),
  ]);
  ok(good, "(value = 7)\n");
  assert.equal(remote.status, 1);
  assert.match(
    remote.stderr,
    /^capnts call: Calculator\.Function\.call failed \(failed\): remote exception: /,
  );
  assert.equal(usage.status, 2);
  assert.match(
    usage.stderr,
    /^capnts: bad params for Calculator\.evaluate: .*\nTry 'capnts call --help' for more information\.\n$/,
  );
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: capnts call /);
});
