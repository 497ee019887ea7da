/**
 * capnts as users install it: the packed tarball in a fresh ESM app, on the Nodes users run
 * (the machine's, 24 and 26) and the TypeScripts they have (5.9, and 7 which `npm install
 * typescript` gives today). Every subpath export loads and typechecks; the documented codegen
 * routes give the same bindings, which typecheck strictly and run; generated TypeScript runs
 * under Node's type stripping; publint and are-the-types-wrong find nothing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CLIENT_PROGRAM, READING_SCHEMA, SERIALIZE_PROGRAM } from "../../bench/bundle/programs.mjs";
import { SERVER_V8_FLAGS } from "../hostile/peer.js";
import { type App, capnpIncludeDir, newApp, packTarball, ROOT, toolchains } from "./app.js";

const ENTRIES: [string, string][] = [
  ["capnts", "MessageBuilder"],
  ["capnts/wire", "StructReader"],
  ["capnts/serialize", "encodeFrame"],
  ["capnts/schema", "SchemaLoader"],
  ["capnts/rpc", "Client"],
  ["capnts/node", "Runtime"],
  ["capnts/websocket", "WebSocketTransport"],
  ["capnts/messageport", "MessagePortTransport"],
  ["capnts/ws", "listenWebSocket"],
  ["capnts/compiler", "generate"],
  ["capnts/testing", "whenIdle"],
  ["capnts/codegenv1", "StructReader"],
  ["capnts/gen/rpc.capnp.js", "Message"],
  ["capnts/gen/rpc-twoparty.capnp.js", "VatId"],
  ["capnts/gen/persistent.capnp.js", "Persistent"],
  ["capnts/gen/stream.capnp.js", "StreamResult"],
  ["capnts/gen/c++.capnp.js", "$schema"],
];

/** A user schema that streams and imports every standard schema the runtime ships bindings of. */
const APP_SCHEMA = `@0xd8a6b9e1f0c2a345;
using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("app");
using Schema = import "/capnp/schema.capnp";
using Rpc = import "/capnp/rpc.capnp";
using Persistent = import "/capnp/persistent.capnp";

struct Holder {
  node @0 :Schema.Node;
  exception @1 :Rpc.Exception;
  name @2 :Text = "holder";
}

interface Sink {
  write @0 (chunk :Data) -> stream;
  done @1 () -> (total :UInt64);
}

interface Saver extends(Persistent.Persistent(Text, Text)) {}

interface Calc {
  add @0 (a :Int32, b :Int32) -> (sum :Int32);
  sink @1 () -> (sink :Sink);
}
`;

/** A program using the installed package and the bindings: a server and a client over TCP. */
const MAIN = (
  gen: string,
  ext: string,
) => `import { decodeFrame, encodeFrame, MessageBuilder, MessageReader, RpcError } from "capnts";
import { Runtime } from "capnts/node";
import { Message } from "capnts/gen/rpc.capnp.js";
import { Calc, Holder, Sink } from "./${gen}/app.capnp${ext}";

const b = new MessageBuilder();
const h = b.initRoot(Holder.Builder);
h.initNode().displayName = "app.capnp:Holder";
h.initException().reason = "just a test";
const bytes = encodeFrame(b.getSegmentsForOutput());
const r = new MessageReader(decodeFrame(bytes).segments).getRoot(Holder.Reader);
if (r.name !== "holder" || r.node.displayName !== "app.capnp:Holder" || r.exception.reason !== "just a test")
  throw new Error("round trip: " + String(r));
if (typeof Message.Reader !== "function") throw new Error("rpc.capnp bindings missing");

const rt = Runtime.init();
let total = 0n;
const server = rt.newServer(
  Calc.server({
    add(ctx) {
      if (ctx.params.a === 13) throw new Error("unlucky");
      ctx.results.sum = ctx.params.a + ctx.params.b;
    },
    sink(ctx) {
      ctx.results.sink = Sink.server({
        write(c) {
          total += BigInt(c.params.chunk.byteLength);
        },
        done(c) {
          c.results.total = total;
        },
      });
    },
  }),
);
const { address } = await server.listen("127.0.0.1:0");
const client = await rt.connect(address);
const calc = client.bootstrap(Calc.Client);
const sum = await calc.add((p) => {
  p.a = 2;
  p.b = 3;
});
let failed = "";
try {
  await calc.add((p) => {
    p.a = 13;
  });
} catch (e) {
  if (e instanceof RpcError) failed = e.type;
}
const sink = calc.sink().pipeline.sink;
for (let i = 0; i < 10; i++) await sink.write((p) => { p.chunk = new Uint8Array(1000); });
const done = await sink.done();
console.log(JSON.stringify({ sum: sum.sum, failed, total: String(done.total) }));
await rt.shutdown();
`;

const EXPECTED = JSON.stringify({ sum: 5, failed: "failed", total: "10000" });

let app: App;
let inc: string | null;

before(() => {
  inc = capnpIncludeDir();
  app = newApp("main", { gen: "capnp compile -ocapnts:gen-c app.capnp" });
  app.write("app.capnp", APP_SCHEMA);
});
after(() => app?.remove());

function needCapnp(t: import("node:test").TestContext): boolean {
  if (inc !== null) return true;
  if (process.env.CI) throw new Error("capnp is not installed (Debian package `capnproto`); required in CI");
  t.skip("capnp is not installed (Debian package `capnproto`)");
  return false;
}

function tsconfig(resolution: "NodeNext" | "Bundler", include: string[], emit = false): string {
  return JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: resolution === "NodeNext" ? "NodeNext" : "Preserve",
      moduleResolution: resolution,
      lib: ["ES2022", "ESNext.Disposable", "DOM"],
      types: ["node"],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      noImplicitReturns: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      skipLibCheck: false,
      ...(emit ? { outDir: "out", rootDir: "." } : { noEmit: true }),
    },
    include,
  });
}

test("every subpath export loads, on every Node", (t) => {
  const tc = toolchains(t);
  if (tc === null) return;
  const script = ENTRIES.map(
    ([spec, name], i) =>
      `const m${i} = await import(${JSON.stringify(spec)});\n` +
      `if (!(${JSON.stringify(name)} in m${i})) throw new Error(${JSON.stringify(`${spec} has no ${name}`)});`,
  ).join("\n");
  app.write("entries.mjs", `${script}\nconsole.log("ok");\n`);
  for (const [name, node] of tc.nodes) {
    assert.equal(app.node(["entries.mjs"], node).stdout.trim(), "ok", name);
  }
});

test("the codegen routes a user has give the same bindings", (t) => {
  if (!needCapnp(t)) return;
  // `npx capnts compile` (the output directory is created), the installed plugin by path, and
  // `capnp compile -ocapnts` in an npm script (npm puts node_modules/.bin on PATH).
  app.run("npx", ["--no-install", "capnts", "compile", "-o", "gen-a", "app.capnp"]);
  app.run("mkdir", ["-p", "gen-b"]);
  app.run("capnp", ["compile", "-o", "node_modules/.bin/capnpc-capnts:gen-b", "app.capnp"]);
  app.run("mkdir", ["-p", "gen-c"]);
  app.run("npm", ["run", "--silent", "gen"]);
  const a = readFileSync(join(app.dir, "gen-a/app.capnp.ts"), "utf8");
  assert.match(
    a,
    /^\/\/ Generated by capnpc-capnts \d+\.\d+\.\d+ from app\.capnp \(runtime: capnts\/codegenv1\)/,
  );
  assert.match(a, /from "capnts\/codegenv1";/);
  assert.match(a, /from "capnts\/gen\/stream\.capnp\.js";/);
  assert.match(a, /from "capnts\/schema";/);
  assert.equal(readFileSync(join(app.dir, "gen-b/app.capnp.ts"), "utf8"), a, "plugin by path");
  assert.equal(readFileSync(join(app.dir, "gen-c/app.capnp.ts"), "utf8"), a, "npm script");
  // The generator's own test schema, which uses every construct (groups in results, generics,
  // lists of everything, streaming, ...): its bindings must typecheck against the published
  // declarations too.
  for (const f of ["codegen-test.capnp", "codegen-import.capnp"])
    app.write(`schemas/${f}`, readFileSync(join(ROOT, "test/schemas", f), "utf8"));
  app.run("npx", [
    "--no-install",
    "capnts",
    "compile",
    "-o",
    "gen-x",
    "--src-prefix",
    "schemas",
    "schemas/codegen-test.capnp",
    "schemas/codegen-import.capnp",
  ]);
  // Every standard schema of the installed capnp, generated as requested files.
  const std = readdirSync(join(inc!, "capnp"), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".capnp"))
    .map((f) => join(inc!, "capnp", f));
  assert.ok(std.length >= 6, `standard schemas found: ${std.join(", ")}`);
  app.run("npx", ["--no-install", "capnts", "compile", "-o", "std", `--src-prefix=${inc}`, ...std]);
  assert.ok(readdirSync(join(app.dir, "std/capnp")).includes("schema.capnp.ts"));
});

test("published types and generated bindings typecheck strictly (NodeNext, Bundler; TypeScript 5.9 and 7)", (t) => {
  const tc = toolchains(t);
  if (tc === null || !needCapnp(t)) return;
  const uses = ENTRIES.map(([spec, name], i) => `import { ${name} as e${i} } from ${JSON.stringify(spec)};`);
  app.write(
    "consumer.ts",
    `${uses.join("\n")}\nexport const all: unknown[] = [${ENTRIES.map((_, i) => `e${i}`).join(", ")}];\n`,
  );
  app.write("main.ts", MAIN("gen-a", ".js"));
  for (const resolution of ["NodeNext", "Bundler"] as const) {
    app.write(
      `tsconfig.${resolution}.json`,
      tsconfig(resolution, ["consumer.ts", "main.ts", "gen-a", "gen-x", "std"]),
    );
    for (const [name, [cmd, ...args]] of tc.compilers) {
      const r = app.run(cmd!, [...args, "-p", `tsconfig.${resolution}.json`], { allowFail: true });
      assert.equal(r.status, 0, `${name}, ${resolution}:\n${r.stdout}${r.stderr}`);
    }
  }
});

/** The README's runnable example (the first ```ts run block), with the output it promises. */
function readmeExample(): { code: string; output: string } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = /```ts run\n([\s\S]*?)```\s*```text output\n([\s\S]*?)```/.exec(readme);
  assert.ok(m !== null, "README.md has a ```ts run block followed by its ```text output");
  return { code: m[1]!, output: m[2]! };
}

test("a server and a client from the installed package run on every Node (and the README's example)", (t) => {
  const tc = toolchains(t);
  if (tc === null || !needCapnp(t)) return;
  // The README example's schema is the calculator example, shipped in the package.
  app.run("npx", [
    "--no-install",
    "capnts",
    "compile",
    "-o",
    "gen",
    "--src-prefix",
    "node_modules/capnts/examples/calculator",
    "node_modules/capnts/examples/calculator/calculator.capnp",
  ]);
  const readme = readmeExample();
  app.write("readme.ts", readme.code);
  // Every standard schema's bindings are loaded too, not only typechecked.
  const stdFiles = readdirSync(join(app.dir, "std"), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".capnp.ts"));
  app.write(
    "std-load.ts",
    `${stdFiles.map((f, i) => `import * as s${i} from "./std/${f.replace(/\.ts$/, ".js")}";`).join("\n")}\n` +
      `for (const m of [${stdFiles.map((_, i) => `s${i}`).join(", ")}]) if (typeof m.$schema !== "object") throw new Error("no $schema");\n` +
      `console.log(${stdFiles.length});\n`,
  );
  app.write(
    "tsconfig.emit.json",
    tsconfig("NodeNext", ["main.ts", "readme.ts", "std-load.ts", "gen", "gen-a", "std"], true),
  );
  app.run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.emit.json"]);
  for (const [name, node] of tc.nodes) {
    assert.equal(app.node(["out/main.js"], node).stdout.trim(), EXPECTED, name);
    assert.equal(app.node(["out/readme.js"], node).stdout, readme.output, `README example, ${name}`);
    // With the V8 flags docs/rpc.md gives servers facing untrusted peers: every Node takes them.
    assert.equal(
      app.node([...SERVER_V8_FLAGS, "out/readme.js"], node).stdout,
      readme.output,
      `README example with ${SERVER_V8_FLAGS.join(" ")}, ${name}`,
    );
    assert.equal(app.node(["out/std-load.js"], node).stdout.trim(), String(stdFiles.length), `std, ${name}`);
  }
});

/**
 * A PATH with node, npm and npx only (each linked from where this machine has it), and the
 * shell npm runs bins with: no `capnp`, no `capnpc-*`, no compiler of any kind, as on a machine
 * that has only Node installed.
 */
function nodeOnlyPath(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const which = (cmd: string): string => {
    const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
    assert.equal(r.status, 0, `${cmd} is not on PATH`);
    return realpathSync(r.stdout.trim());
  };
  for (const [name, target] of [
    ["node", process.execPath],
    ["npm", which("npm")],
    ["npx", which("npx")],
    ["sh", realpathSync("/bin/sh")],
  ] as const) {
    if (!existsSync(join(dir, name))) symlinkSync(target, join(dir, name));
  }
  return dir;
}

/** The calculator over TCP with bindings generated without capnp, then `capnts call` against it. */
const NO_CAPNP_MAIN = `import { execFile } from "node:child_process";
import { Runtime } from "capnts/node";
import { Calculator, Calculator_Function, Calculator_Operator, Calculator_Value } from "./gen-nocapnp/calculator.capnp.js";

await using rt = Runtime.init();
const server = rt.newServer(
  Calculator.server({
    evaluate(ctx) {
      const e = ctx.params.expression;
      if (e.which !== "literal") throw new Error("only literals");
      const v = e.literal;
      ctx.results.value = Calculator_Value.server({ read: (r) => void (r.results.value = v) });
    },
    getOperator(ctx) {
      const op = ctx.params.op;
      ctx.results.func = Calculator_Function.server({
        call(c) {
          const [a, b] = c.params.params.toArray();
          if (a === undefined || b === undefined) throw new Error("two parameters");
          c.results.value = op === Calculator_Operator.add ? a + b : a * b;
        },
      });
    },
  }),
);
const { address } = await server.listen("127.0.0.1:0");
const client = await rt.connect(address);
const calc = client.bootstrap(Calculator.Client);
using add = calc.getOperator((p) => void (p.op = Calculator_Operator.add));
using sum = add.pipeline.func.call((p) => {
  const l = p.initParams(2);
  l.set(0, 40);
  l.set(1, 2);
});
console.log(\`sum \${(await sum).value}\`);
// The installed command, against the same server: pipelined calls from the shell.
const called = await new Promise<string>((resolve, reject) =>
  execFile(
    "node_modules/.bin/capnts",
    ["call", address, "calculator.capnp", "Calculator.evaluate", "(expression = (literal = 7))", "--pipeline", "value.read"],
    (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
  ),
);
console.log(\`call \${called.trim()}\`);
`;

test("with only node and npm on PATH (no capnp): compile the calculator, typecheck, run a server, a client and capnts call", () => {
  const path = nodeOnlyPath(join(app.dir, "node-only-bin"));
  const env = { PATH: path };
  assert.deepEqual(readdirSync(path).sort(), ["node", "npm", "npx", "sh"]);
  assert.notEqual(app.run("/bin/sh", ["-c", "command -v capnp"], { env, allowFail: true }).status, 0);
  app.write("calculator.capnp", readFileSync(join(ROOT, "examples/calculator/calculator.capnp"), "utf8"));
  const missing = app.run("npx", ["--no-install", "capnts", "compile", "--capnp", "calculator.capnp"], {
    env,
    allowFail: true,
  });
  // Without capnp, --capnp says so (status 127): whatever compiles below did not run it.
  assert.equal(missing.status, 127, missing.stdout + missing.stderr);
  assert.match(missing.stderr, /capnp. schema compiler was not found on PATH/);
  app.run("npx", ["--no-install", "capnts", "compile", "-o", "gen-nocapnp", "calculator.capnp"], { env });
  // The schema imports /capnp/c++.capnp: the copy capnts ships is enough (this machine also has
  // capnp's in /usr/include, which the default search would find first; the output is the same).
  app.run(
    "npx",
    [
      "--no-install",
      "capnts",
      "compile",
      "--no-standard-import",
      "-I",
      "node_modules/capnts/schemas",
      "-o",
      "gen-bundled",
      "calculator.capnp",
    ],
    { env },
  );
  const generated = readFileSync(join(app.dir, "gen-nocapnp/calculator.capnp.ts"), "utf8");
  assert.equal(
    readFileSync(join(app.dir, "gen-bundled/calculator.capnp.ts"), "utf8").replace(
      /^\/\/ Generated by .*\n/,
      "",
    ),
    generated.replace(/^\/\/ Generated by .*\n/, ""),
  );
  app.write("nocapnp.ts", NO_CAPNP_MAIN);
  app.write("tsconfig.nocapnp.json", tsconfig("NodeNext", ["nocapnp.ts", "gen-nocapnp"], true));
  app.run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.nocapnp.json"], {
    env,
  });
  const r = app.run("node", ["out/nocapnp.js"], { env });
  assert.equal(r.stdout, "sum 42\ncall (value = 7)\n");
});

test("generated TypeScript runs under Node's type stripping (imports named .ts)", (t) => {
  const tc = toolchains(t);
  if (tc === null || !needCapnp(t)) return;
  app.run("npx", ["--no-install", "capnts", "compile", "--import-ext", ".ts", "-o", "gen-ts", "app.capnp"]);
  app.write("strip.ts", MAIN("gen-ts", ".ts"));
  for (const [name, node] of tc.nodes.filter(([n]) => n === "node24" || n === "node26")) {
    assert.equal(app.node(["strip.ts"], node).stdout.trim(), EXPECTED, name);
  }
});

/**
 * Browser bundles of the installed package (esbuild: browser, ESM, ES2022, minified; gzip -9).
 * BENCHMARKS.md, "Bundle sizes", has the numbers and where the bytes go.
 * - the minimal calculator client: generated bindings, the RPC core and the WebSocket client
 *   (`connectWebSocket` from capnts/websocket, `MessageStreamClient`), run against a capnts
 *   server over loopback;
 * - serialization only: one struct built, framed, unframed and read.
 * Issue 15 asks for 25 KB and 10 KB. The serialization program is under 10 KB (9,978 bytes); the
 * client is not (BENCHMARKS.md says what is left):
 * the limits here guard against growth, just above the sizes reached (the client: 36,357 bytes
 * with the core's own rpc.capnp bindings and without the byte-stream framing; 37,496 once the
 * E-order fixes of the behaviour fuzzer (+~380: embargoed pipeline entries kept, the post-Return
 * wait, takeFromOtherQuestion through the answer's pipeline) and C++ parity (+~760: 1.x
 * Exception.details, flow-controller choice, shutdown-error report, idle tracking) joined;
 * 37,830 once the import cycles were broken (moving code between wire modules changes what gzip
 * matches: +~330 at about the same minified size); 37,097 with PromiseClient's resolution kinds
 * as constants, and Node's fast paths and the leak finder out of browser bundles; 37,544 once
 * every RPC table had its module and union entries (exports, imports, embargoes, questions: about
 * +300 after the cuts that paid for part of it) and answers kept a compact copy of their results
 * instead of the call (+~140, issue 13); 37,640 with no cap-table copy for calls that carry no
 * capability (+20 for ~8% less CPU per call at 64 outstanding, issue 17); 37,728 with unfinished
 * Bootstraps sharing one pipeline (+88 for 40% less heap per Bootstrap held, issue 13); 38,052 with
 * answers keeping results of one capability as its index, a failed call's answer a broken
 * pipeline, and one result export as its ID (+324 for 42% less heap per answer held, issue 13);
 * 38,149 with chains of releases deeper than 64 destroyed in a loop (+97: a peer's chain of 20k
 * promises overflowed the stack); 38,230 with the answer table's array growing only as IDs climb
 * (+81: one Bootstrap at ID 65,535 cost 512 KiB); 38,290 once a destroy() that throws no longer
 * strands the deferred ones and the array's growth is counted per ID (+60, review findings);
 * 38,459 with promises that would resolve into a cycle breaking instead (+169: a peer's Resolve
 * froze the process); 38,634 with run-queue tasks answering to the connection whose message set
 * them going (+166: a bug a peer could reach in a task was an uncaught exception, ending the
 * process; now it ends that connection, as rpc.c++ taskFailed does); 38,644 with a peer's call
 * delivered as the work of its connection whoever releases it (+10); the serialization
 * program 10,251, 10,268, 9,965, then 9,978 with zeroing ahead in 256-byte steps).
 * `node bench/bundle/sizes.mjs --package --table` says where the bytes go.
 */
const BUNDLE_LIMITS = { client: 38_660, serialize: 10_060 };

const SIZE_ENTRIES: Record<string, string> = {
  "size/serialize.ts": SERIALIZE_PROGRAM,
  "size/client.ts": CLIENT_PROGRAM,
  // Runs both bundled programs (as bundled for the browser) against a capnts WebSocket server on
  // loopback, and prints what they give.
  "size/check.ts": `import { TwoPartyServer } from "capnts";
import { listenWebSocket } from "capnts/ws";
import { WebSocket } from "ws";
// @ts-ignore: the browser bundles, built by the test.
import { connect } from "./client.mjs";
import { Calculator, Calculator_Value } from "./gen/calculator.capnp.js";
// @ts-ignore: as above.
import { roundTrip } from "./serialize.mjs";

const server = new TwoPartyServer(
  Calculator.server({
    evaluate(ctx) {
      const e = ctx.params.expression;
      const v = e.which === "literal" ? e.literal : Number.NaN;
      ctx.results.value = Calculator_Value.server({ read: (r) => void (r.results.value = v * 2) });
    },
  }),
);
const listener = await listenWebSocket(server);
const c = await connect(listener.url, WebSocket);
console.log(roundTrip());
console.log(await c.evaluate(21));
await c.close();
await listener.close();
`,
  // toString() in bundles with capnts/schema: the text format once the program uses the module's
  // $schema (here as docs/schemas.md says), and which schema is missing when it does not.
  "size/print.ts": `import { schemas } from "capnts/schema";
import { $schema } from "./gen/reading.capnp.js";
import { roundTrip } from "./serialize.js";

schemas.addFile($schema);
console.log(roundTrip());
`,
  "size/print-dropped.ts": `import "capnts/schema";
import { roundTrip } from "./serialize.js";

console.log(roundTrip());
`,
};

test("browser bundles: the calculator client and a serialization-only program stay small, and run", async (t) => {
  if (!needCapnp(t)) return;
  const esbuild = await import("esbuild");
  const { gzipSync } = await import("node:zlib");
  app.write("size/reading.capnp", READING_SCHEMA);
  for (const [path, code] of Object.entries(SIZE_ENTRIES)) app.write(path, code);
  // Bindings as users generate them, with the installed generator.
  const compile = (prefix: string, schema: string) =>
    app.run("npx", ["--no-install", "capnts", "compile", "-o", "size/gen", "--src-prefix", prefix, schema]);
  compile("size", "size/reading.capnp");
  const calc = "node_modules/capnts/examples/calculator";
  compile(calc, `${calc}/calculator.capnp`);
  const bundle = async (entry: string, minify = true, platform: "browser" | "node" = "browser") => {
    const r = await esbuild.build({
      entryPoints: [join(app.dir, entry)],
      absWorkingDir: app.dir,
      bundle: true,
      platform,
      format: "esm",
      target: "es2022",
      minify,
      write: false,
      logLevel: "silent",
      // The Node check program loads the installed package and the browser bundles as they are.
      ...(platform === "node"
        ? { external: ["capnts", "capnts/*", "ws", "./client.mjs", "./serialize.mjs"] }
        : {}),
    });
    return r.outputFiles[0]!.contents;
  };
  for (const [name, entry] of [
    ["client", "size/client.ts"],
    ["serialize", "size/serialize.ts"],
  ] as const) {
    const out = await bundle(entry);
    const gz = gzipSync(out, { level: 9 }).length;
    t.diagnostic(`${name}: ${out.length} bytes minified, ${gz} gzip`);
    assert.ok(gz <= BUNDLE_LIMITS[name], `${name} bundle: ${gz} bytes gzip, limit ${BUNDLE_LIMITS[name]}`);
    app.write(`size/${name}.mjs`, new TextDecoder().decode(out));
    // Nothing of Node, the compiler or reflection in a browser bundle.
    const text = new TextDecoder().decode(await bundle(entry, false));
    assert.doesNotMatch(
      text,
      /from "node:|dist\/src\/(schema|compiler|cli|transport\/(?!websocket|inbox|message-frames))/,
      name,
    );
    // A WebSocket client carries no byte-stream framing (MessageStreamClient), and the RPC core
    // only its own rpc.capnp bindings (src/rpc/gen: the members it uses), not the full ones.
    assert.doesNotMatch(text, /dist\/src\/(rpc\/byte-stream|serialize\/stream|gen\/rpc\.capnp)\.js/, name);
    // Node's fast paths (Buffer probes) and the leak finder stay out: package.json's `imports`
    // give browser bundles platform-browser.js and tracking-env-browser.js.
    assert.doesNotMatch(text, /dist\/src\/(wire\/platform-node|rpc\/tracking-env|rpc\/tracking)\.js/, name);
    assert.match(text, /dist\/src\/wire\/platform-browser\.js/, name);
  }
  // The bundled programs work: the client over a real WebSocket to a server on loopback (the
  // ws package from the repository, as a Node 20 user installs it), with pipelining; a message
  // round trip, and toString() without the schema module.
  const ws = join(app.dir, "node_modules/ws");
  if (!existsSync(ws)) symlinkSync(join(ROOT, "node_modules/ws"), ws, "dir");
  app.write("size/check.mjs", new TextDecoder().decode(await bundle("size/check.ts", false, "node")));
  const bare = '<struct @0xa9202df9498362a9: import "capnts/schema" to print the text format>';
  assert.equal(app.node(["size/check.mjs"]).stdout, `7 north 21.5 0+10+20 true ${bare}\n42\n`);
  // With capnts/schema, toString() prints the text format once the program uses the $schema the
  // bundler would otherwise drop (docs/schemas.md).
  app.write("size/print.mjs", new TextDecoder().decode(await bundle("size/print.ts")));
  assert.equal(
    app.node(["size/print.mjs"]).stdout,
    '7 north 21.5 0+10+20 true (id = 7, station = "north", celsius = 21.5, samples = [0, 10, 20], ok = true)\n',
  );
  app.write("size/print-dropped.mjs", new TextDecoder().decode(await bundle("size/print-dropped.ts")));
  assert.match(
    app.node(["size/print-dropped.mjs"]).stdout,
    / <struct @0xa9202df9498362a9: no schema loaded for it /,
  );
});

test("publint and are-the-types-wrong find nothing in the package", () => {
  const pkg = join(app.dir, "node_modules/capnts");
  const lint = app.run(process.execPath, [join(ROOT, "node_modules/publint/src/cli.js"), "--strict", pkg], {
    allowFail: true,
  });
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  assert.match(lint.stdout, /All good/);
  const attw = app.run(
    process.execPath,
    [
      join(ROOT, "node_modules/@arethetypeswrong/cli/dist/index.js"),
      packTarball(),
      "--profile",
      "esm-only",
      "--format",
      "ascii",
      "--include-entrypoints",
      "./gen/rpc.capnp.js",
      "./gen/stream.capnp.js",
    ],
    { allowFail: true },
  );
  assert.equal(attw.status, 0, attw.stdout + attw.stderr);
});

test("the generator names the package's version", async () => {
  const { VERSION } = await import("capnts/compiler");
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  assert.equal(VERSION, pkg.version);
});
