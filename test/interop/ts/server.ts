/**
 * The TypeScript interop test server: the counterpart of test/interop/build/test-server (and of
 * calculator-server with `--serve calculator`), with the same conventions (test/interop/README.md):
 *
 *   node --import tsx test/interop/ts/server.ts --listen ADDRESS [--serve test|calculator|demo-calculator]
 *        [--timeout-ms 60000] [--ignore-stdin] [--max-fds N]
 *
 * `--max-fds N` (unix: addresses only) makes every connection pass FDs (SCM_RIGHTS, through the
 * optional `usocket` package), keeping at most N of those received with one message, as the C++
 * test-server's option of the same name.
 *
 * `--serve calculator` serves test/interop/ts/calculator.ts (modelled on calculator-server.c++);
 * `--serve demo-calculator` serves the demo's calculator (examples/calculator/server.ts).
 *
 * ADDRESS is tcp:HOST:PORT, HOST:PORT or unix:PATH (port 0 picks one; a stale socket file is
 * removed first and at exit). When ready it prints exactly one line on stdout,
 * `LISTENING <address>` with the real port, and nothing else; diagnostics go to stderr. It exits 0
 * when stdin reaches end-of-file (a stdin that is a file or /dev/null counts as closed at once),
 * 124 after --timeout-ms (0 = never) with `ts-test-server: TIMEOUT after N ms` on stderr, 1 when it
 * cannot listen, 2 on a usage error.
 *
 * Every connection gets its own bootstrap object (and counters), made once per connection by a
 * BootstrapFactory that records the peer's VatId.
 */

import { Runtime } from "capnts/node";
import type { Server, TwoPartyClient } from "capnts/rpc";
import { Calculator } from "../../../examples/calculator/calculator.capnp.js";
import { calculatorServer } from "../../../examples/calculator/server.js";
import { MAX_FDS_PER_MESSAGE } from "../../../src/rpc/fd.js";
import { Counters, newTestBootstrap, traceFor } from "../../fixtures/test-impls.js";
import { CalculatorImpl } from "./calculator.js";
import { fdNet, parseAddress, removeStaleSocket, toDisplayAddress, toRuntimeAddress } from "./net.js";

const PROGRAM = "ts-test-server";
const USAGE = `usage: node --import tsx test/interop/ts/server.ts --listen ADDRESS [--serve test|calculator|demo-calculator]
                  [--timeout-ms N] [--ignore-stdin] [--max-fds N]
  ADDRESS: tcp:HOST:PORT (port 0 = any), HOST:PORT or unix:PATH
  Prints 'LISTENING <address>' when ready; exits when stdin closes (unless --ignore-stdin)
  or with status 124 after --timeout-ms (default 60000; 0 = never).
  --max-fds N (unix: only): pass FDs (SCM_RIGHTS), keeping at most N per received message.
`;

function usageError(message: string): never {
  process.stderr.write(`${PROGRAM}: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]): Map<string, string> {
  const flags = new Set(["ignore-stdin", "help"]);
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) usageError(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (flags.has(name)) out.set(name, "");
    else if (eq >= 0) out.set(name, a.slice(eq + 1));
    else {
      const v = argv[++i];
      if (v === undefined) usageError(`--${name} needs a value`);
      out.set(name, v);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.has("help")) {
    process.stdout.write(USAGE);
    return;
  }
  const listen = args.get("listen");
  if (listen === undefined) usageError("--listen is required");
  const serve = args.get("serve") ?? "test";
  if (serve !== "test" && serve !== "calculator" && serve !== "demo-calculator")
    usageError(`unknown --serve ${serve}`);
  const timeoutMs = Number(args.get("timeout-ms") ?? "60000");
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) usageError("bad --timeout-ms");
  let parsed: ReturnType<typeof parseAddress>;
  try {
    parsed = parseAddress(toRuntimeAddress(listen));
  } catch (e) {
    usageError((e as Error).message);
  }
  const unixPath = parsed.kind === "unix" ? parsed.path : null;
  const maxFds = Number(args.get("max-fds") ?? "0");
  if (!Number.isInteger(maxFds) || maxFds < 0 || maxFds > MAX_FDS_PER_MESSAGE)
    usageError(`--max-fds must be an integer from 0 to ${MAX_FDS_PER_MESSAGE}`);
  if (maxFds > 0 && unixPath === null)
    usageError("--max-fds needs a unix: address (FDs pass over Unix sockets only)");

  let exiting = false;
  const exit = (code: number): never => {
    exiting = true;
    if (unixPath !== null) removeStaleSocket(unixPath);
    process.exit(code);
  };
  if (timeoutMs > 0) {
    setTimeout(() => {
      process.stderr.write(`${PROGRAM}: TIMEOUT after ${timeoutMs} ms\n`);
      exit(124);
    }, timeoutMs);
  }
  process.on("uncaughtException", (e) => {
    // A bug in the runtime must not take the test run down silently: report it and go on,
    // as the C++ server logs and keeps serving other connections.
    process.stderr.write(
      `${PROGRAM}: uncaught exception: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
  });
  process.on("unhandledRejection", (e) => {
    process.stderr.write(
      `${PROGRAM}: unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
  });

  const rt = Runtime.init(maxFds > 0 ? { net: fdNet } : {});

  // One bootstrap object per connection. The factory sees the peer's VatId object, which the
  // two-party network makes once per connection, so it also identifies the connection.
  const connections = new WeakMap<object, TwoPartyClient>();
  const bootstraps = new WeakMap<object, Server>();
  const connectionOf = (key: object, what: string): TwoPartyClient => {
    const conn = connections.get(key);
    if (conn === undefined) throw new Error(`${what}: connection not found`);
    return conn;
  };
  const factory = {
    createFor(peerVatId: unknown): Server {
      const key = peerVatId as object;
      const cached = bootstraps.get(key);
      if (cached !== undefined) return cached;
      let server: Server;
      if (serve === "calculator") {
        server = Calculator.server(new CalculatorImpl());
      } else if (serve === "demo-calculator") {
        server = calculatorServer();
      } else {
        const side = (peerVatId as { side?: number } | null)?.side === 0 ? "server" : "client";
        server = newTestBootstrap(new Counters(), {
          peerSide: side,
          setTraceEncoder: (enabled) =>
            connectionOf(key, "setTraceEncoder").setTraceEncoder(enabled ? traceFor : null),
          setFlowLimit: (words) => connectionOf(key, "setFlowLimit").rpcSystem.setFlowLimit(words),
        });
      }
      bootstraps.set(key, server);
      return server;
    },
  };
  if (unixPath !== null) removeStaleSocket(unixPath); // usocket does not replace one
  const server = rt.newServer(factory, maxFds > 0 ? { maxFdsPerMessage: maxFds } : {});
  server.onConnection = (c) => {
    connections.set(c.network.peerVatId as object, c);
  };

  const info = await server.listen(toRuntimeAddress(listen)).catch((e: unknown) => {
    process.stderr.write(`${PROGRAM}: cannot listen on ${listen}: ${(e as Error).message}\n`);
    return exit(1);
  });
  process.stdout.write(`LISTENING ${toDisplayAddress(info.address)}\n`);

  if (!args.has("ignore-stdin")) {
    const onEof = () => {
      if (exiting) return;
      exiting = true;
      // Shut down, but never hang on it.
      setTimeout(() => exit(0), 2000).unref();
      rt.shutdown().then(
        () => exit(0),
        () => exit(0),
      );
    };
    process.stdin.on("end", onEof);
    process.stdin.on("close", onEof);
    process.stdin.on("error", onEof);
    process.stdin.resume();
  }
}

main().catch((e) => {
  process.stderr.write(`${PROGRAM}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
