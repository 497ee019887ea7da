// bench/rpc/server.ts: the TypeScript servers of the RPC benchmarks (the C++ one is
// bench/cpp/bench-echo-server.c++), with the same process conventions:
//
//   node server.js --kind capnts|grpc|capnweb|net --listen ADDRESS [--listen ADDRESS ...]
//
// ADDRESS: tcp:HOST:PORT (port 0 = any), HOST:PORT or unix:PATH. Prints "LISTENING <address>"
// once per address when ready (the real port), exits when stdin closes. Kinds: see serve.ts.
//
// Control lines on stdin (answers on stdout, one line):
//   HEAP   after two forced GCs (run node with --expose-gc): HEAP {"heapUsed":…,"external":…,
//          "arrayBuffers":…,"rss":…,"connections":…}
//   CPU    CPU <microseconds of CPU time (user + system) this process has used>
import { displayAddress, lines, parseAddress, parseArgs } from "./common.js";
import { type RunningServer, type ServerKind, serve } from "./serve.js";

const args = parseArgs(process.argv.slice(2), []);
const kind = args.get("kind", "capnts")! as ServerKind;
const addresses = args.all("listen").map(parseAddress);
if (addresses.length === 0) addresses.push(parseAddress("tcp:127.0.0.1:0"));

let server: RunningServer;
try {
  server = await serve(kind, addresses);
  for (const a of server.addresses) process.stdout.write(`LISTENING ${displayAddress(a)}\n`);
} catch (e) {
  process.stderr.write(`server (${kind}): ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

function heap(): Record<string, number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return {
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    rss: m.rss,
    connections: server.connections(),
  };
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(code), 3000).unref();
  await server.close();
  process.exit(code);
}

void lines(async (line) => {
  if (line === "HEAP") process.stdout.write(`HEAP ${JSON.stringify(heap())}\n`);
  else if (line === "CPU") {
    const c = process.cpuUsage();
    process.stdout.write(`CPU ${c.user + c.system}\n`);
  } else process.stderr.write(`server (${kind}): unknown command ${line}\n`);
}).then(() => stop(0));
process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));
