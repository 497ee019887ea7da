/**
 * `capnts call ADDRESS SCHEMA.capnp Interface.method ['(params)'] [--pipeline field.method
 * ['(params)']]...`: a live call from the command line (like grpcurl), through the schema alone
 * (no generated code): the bootstrap capability taken as `Interface`, the params written from
 * Cap'n Proto text, the results printed as text. Each `--pipeline` calls a method on a capability
 * in the previous call's results, pipelined (C++ `RemotePromise` pipelining: sent at once,
 * without waiting for the results it targets); the last call's results are printed. `--list`
 * prints the interface's methods.
 *
 * Exit status: 0 when every call returned; 1 when a call failed (the RpcError's type and reason
 * are printed: a remote exception, a lost connection) or the connection could not be made or
 * timed out; 2 for a usage error (bad arguments, an unknown interface or method, params that are
 * not valid text for the params struct). Everything that can be checked without the server is
 * checked before connecting.
 */

import { Client, type ClientCtor, Pipeline, type RemotePromise } from "../rpc/capability.js";
import { RpcError } from "../rpc/errors.js";
import type { InterfaceInfo, MethodInfo } from "../rpc/server.js";
import { bindingsOf, NO_BINDINGS } from "../schema/brand.js";
import type { SchemaLoader } from "../schema/loader.js";
import type { InterfaceNode, Method, RequestedFile, StructNode } from "../schema/model.js";
import { formatStruct } from "../schema/text.js";
import { ctorFor, encodeTextInto } from "../schema/text-encode.js";
import { TextParseError } from "../schema/text-parse.js";
import { Runtime } from "../transport/index.js";
import { MessageBuilder, StructReader } from "../wire/index.js";
import { loadSchemaFile, type SchemaArgs } from "./schema-files.js";
import { hierarchy, SignaturePrinter } from "./signature.js";
import { UsageError } from "./usage.js";

export const CALL_HELP = `Usage: capnts call [OPTIONS] ADDRESS SCHEMA.capnp Interface.method ['(params)']
                  [--pipeline field.method ['(params)']]...
       capnts call --list [ADDRESS] SCHEMA.capnp Interface

Connects to ADDRESS (HOST:PORT, [IPv6]:PORT or unix:PATH), takes the server's bootstrap
capability as Interface (a name in SCHEMA.capnp, nested with dots: Calculator.Value), calls
the method with the params given in Cap'n Proto text format (default: "()") and prints the
results in text format. Methods of the interfaces Interface extends can be called too.

--pipeline calls a method on a capability in the previous call's results (field.method, or
a.b.method through struct fields), pipelined: sent at once, without waiting for the results.
The last call's results are printed; the calls before it are not waited for.

Exit status: 0 when every call returned; 1 when a call failed (the error's type and reason
are printed), the connection failed or --timeout passed; 2 for a usage error (an unknown
interface or method, params that do not fit the params struct).

Options:
  --pipeline T [P]       call T = field.method on the previous call's results (repeatable)
  --list                 print the interface's methods (its superclasses' too); no connection
  --short                print each result on one line (default: indented like capnp decode)
  --timeout SECONDS      give up (exit 1) when the calls have not all returned by then
  -I, --import-path DIR  add DIR to the directories searched for absolute imports
  --no-standard-import   do not search the standard import directories
  --capnp                parse the schema with the C++ \`capnp\` tool instead of capnts
  -h, --help             show this text
`;

interface CallArgs {
  positional: string[];
  pipelines: { target: string; params: string }[];
  list: boolean;
  short: boolean;
  timeoutMs: number;
  schema: SchemaArgs;
}

/** Text given where params may come: a struct literal always starts with "(" (after blanks). */
const isParams = (a: string | undefined): a is string => a !== undefined && /^\s*\(/.test(a);

function parseArgs(argv: readonly string[]): CallArgs {
  const out: CallArgs = {
    positional: [],
    pipelines: [],
    list: false,
    short: false,
    timeoutMs: 0,
    schema: { importPaths: [], noStandardImport: false, srcPrefixes: [], capnp: false },
  };
  const importPaths: string[] = [];
  const value = (i: number, name: string): string => {
    const v = argv[i];
    if (v === undefined) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--pipeline") {
      const target = value(++i, "--pipeline");
      const params = isParams(argv[i + 1]) ? argv[++i]! : "()";
      out.pipelines.push({ target, params });
    } else if (a === "--list") out.list = true;
    else if (a === "--short") out.short = true;
    else if (a === "--no-standard-import") out.schema = { ...out.schema, noStandardImport: true };
    else if (a === "--capnp") out.schema = { ...out.schema, capnp: true };
    else if (a === "--timeout" || a.startsWith("--timeout=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : value(++i, "--timeout");
      const s = Number(v);
      if (v.trim() === "" || !Number.isFinite(s) || s <= 0)
        throw new UsageError(`--timeout needs a number of seconds above 0, not ${JSON.stringify(v)}`);
      out.timeoutMs = Math.ceil(s * 1000);
    } else if (a === "-I" || a === "--import-path") importPaths.push(value(++i, a));
    else if (a.startsWith("--import-path=")) importPaths.push(a.slice("--import-path=".length));
    else if (a.startsWith("-I")) importPaths.push(a.slice(2));
    else if (a.startsWith("-") && !isParams(a)) throw new UsageError(`unknown option "${a}"`);
    else out.positional.push(a);
  }
  out.schema = { ...out.schema, importPaths };
  return out;
}

/** The interfaces of a file, nested ones too, by their names in it (for "did you mean"). */
function interfaceNames(loader: SchemaLoader, file: RequestedFile, printer: SignaturePrinter): string[] {
  const names: string[] = [];
  const walk = (id: bigint): void => {
    if (!loader.has(id)) return;
    const n = loader.get(id);
    if (n.kind === "interface") names.push(printer.nodeName(n));
    for (const nn of n.nestedNodes) walk(nn.id);
  };
  walk(file.id);
  return names;
}

interface Schema {
  loader: SchemaLoader;
  file: RequestedFile;
  printer: SignaturePrinter;
  path: string;
}

function findInterface(s: Schema, name: string): InterfaceNode {
  let node: ReturnType<SchemaLoader["find"]> | undefined;
  try {
    node = s.loader.find(s.file.id, name);
  } catch {
    node = undefined;
  }
  if (node?.kind === "interface") return node;
  const all = interfaceNames(s.loader, s.file, s.printer);
  const what = node === undefined ? "is not defined in" : `is a ${node.kind}, not an interface, in`;
  throw new UsageError(
    `"${name}" ${what} ${s.path}; ` +
      (all.length === 0 ? "it defines no interfaces" : `its interfaces: ${all.join(", ")}`),
  );
}

/** A method found on an interface or one it extends. */
interface FoundMethod {
  /** The interface that declares it (its ID goes in the call). */
  owner: InterfaceNode;
  ordinal: number;
  method: Method;
}

function findMethod(s: Schema, iface: InterfaceNode, name: string): FoundMethod {
  const all = hierarchy(s.loader, iface);
  for (const owner of all) {
    const ordinal = owner.methods.findIndex((m) => m.name === name);
    if (ordinal >= 0) return { owner, ordinal, method: owner.methods[ordinal]! };
  }
  const names = all.flatMap((i) => i.methods.map((m) => m.name));
  throw new UsageError(
    `${s.printer.nodeName(iface)} has no method "${name}"; ` +
      (names.length === 0 ? "it has no methods" : `its methods: ${names.join(", ")}`),
  );
}

/** One call to make: where, what, with which params. */
interface Step {
  /** "Interface.method", for output and errors. */
  name: string;
  /** Pointer indexes from the previous call's results to the capability (empty: the bootstrap). */
  ops: number[];
  iface: InterfaceNode;
  found: FoundMethod;
  params: string;
  paramsNode: StructNode;
  resultsNode: StructNode;
}

function stepFor(s: Schema, iface: InterfaceNode, methodName: string, params: string, ops: number[]): Step {
  const found = findMethod(s, iface, methodName);
  const paramsNode = s.loader.getStruct(found.method.paramStructType);
  const name = `${s.printer.nodeName(iface)}.${found.method.name}`;
  // The params are checked now, before anything is sent: bad text is a usage error.
  try {
    const scratch = new MessageBuilder();
    encodeTextInto(
      params,
      scratch.initRoot(ctorFor(paramsNode)),
      paramsNode,
      s.loader,
      bindingsOf(found.method.paramBrand),
    );
  } catch (e) {
    if (!(e instanceof TextParseError)) throw e;
    throw new UsageError(`bad params for ${name}: ${e.message}`);
  }
  return {
    name,
    ops,
    iface,
    found,
    params,
    paramsNode,
    resultsNode: s.loader.getStruct(found.method.resultStructType),
  };
}

/**
 * `field.method` (or `a.b.method`) against the results struct of the previous call: the pointer
 * path to a capability field (through struct fields and groups) and the method to call on it.
 */
function pipelineStep(s: Schema, prev: Step, target: string, params: string): Step {
  const parts = target.split(".");
  if (parts.length < 2 || parts.some((p) => p === ""))
    throw new UsageError(`--pipeline needs field.method, not ${JSON.stringify(target)}`);
  const methodName = parts.pop()!;
  let node = prev.resultsNode;
  let bindings =
    prev.found.method.resultBrand.scopes.length > 0 ? bindingsOf(prev.found.method.resultBrand) : NO_BINDINGS;
  const ops: number[] = [];
  for (const [i, part] of parts.entries()) {
    const f = node.fields.find((x) => x.name === part);
    const where = `${prev.name} results${parts.length > 1 ? ` (at ${parts.slice(0, i + 1).join(".")})` : ""}`;
    if (f === undefined) {
      const names = node.fields.map((x) => x.name).join(", ");
      throw new UsageError(
        `--pipeline ${target}: ${where} have no field "${part}" (fields: ${names || "none"})`,
      );
    }
    if (f.kind === "group") {
      // A group lives in its parent's sections: same pointer path.
      node = s.loader.getStruct(f.typeId);
      continue;
    }
    const last = i === parts.length - 1;
    const t =
      f.type.kind === "parameter"
        ? (bindings.get(f.type.scopeId)?.[f.type.parameterIndex] ?? f.type)
        : f.type;
    if (!last && t.kind === "struct") {
      ops.push(f.offset);
      node = s.loader.getStruct(t.typeId);
      bindings = bindingsOf(t.brand);
      continue;
    }
    if (last && t.kind === "interface") {
      ops.push(f.offset);
      return stepFor(s, s.loader.getInterface(t.typeId), methodName, params, ops);
    }
    throw new UsageError(
      `--pipeline ${target}: "${part}" in the ${where} is a ${s.printer.type(t)}, ` +
        (last ? "not a capability of a known interface" : "not a struct"),
    );
  }
  throw new UsageError(`--pipeline ${target}: the path ends in a group, not a capability`);
}

/** InterfaceInfo of a schema interface (names calls in errors; servers are not made from it). */
function interfaceInfo(s: Schema, iface: InterfaceNode, cache: Map<bigint, InterfaceInfo>): InterfaceInfo {
  const known = cache.get(iface.id);
  if (known !== undefined) return known;
  const methods: MethodInfo[] = iface.methods.map((m) => ({
    name: m.name,
    params: StructReader,
    results: ctorFor(s.loader.getStruct(m.resultStructType)),
  }));
  const info: InterfaceInfo = {
    typeId: iface.id,
    name: s.printer.nodeName(iface),
    methods,
    superclasses: [],
  };
  cache.set(iface.id, info);
  (info.superclasses as InterfaceInfo[]).push(
    ...iface.superclasses
      .filter((c) => s.loader.has(c.id))
      .map((c) => interfaceInfo(s, s.loader.getInterface(c.id), cache)),
  );
  return info;
}

/** A Client class for a schema interface, so that errors name its calls as generated clients do. */
function clientClass(info: InterfaceInfo): ClientCtor {
  return class extends Client {
    static override readonly _interface: InterfaceInfo | undefined = info;
  };
}

const TIMED_OUT = Symbol("timed out");

/** Where `capnts call` writes (the process's stdout and stderr by default). */
export interface CallOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_OUTPUT: CallOutput = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/**
 * Runs `capnts call` with `argv` (the arguments after "call"); returns the exit status. Usage
 * errors (status 2) are thrown as UsageError, schema errors as SchemaCompileError, for the
 * command to print as it prints them for every subcommand.
 */
export async function call(argv: readonly string[], out: CallOutput = PROCESS_OUTPUT): Promise<number> {
  const args = parseArgs(argv);
  if (args.list) {
    if (args.pipelines.length > 0) throw new UsageError("--list takes no --pipeline");
    const [a, b, c] = args.positional;
    const [schemaPath, name] = c === undefined ? [a, b] : [b, c];
    if (schemaPath === undefined || name === undefined || args.positional.length > 3)
      throw new UsageError("call --list needs [ADDRESS] SCHEMA.capnp Interface");
    const s = loadSchema(schemaPath, args.schema);
    out.stdout(s.printer.interface(findListed(s, name)));
    return 0;
  }
  const [address, schemaPath, target, params, ...extra] = args.positional;
  if (address === undefined || schemaPath === undefined || target === undefined)
    throw new UsageError("call needs ADDRESS, SCHEMA.capnp and Interface.method");
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (params !== undefined && !isParams(params))
    throw new UsageError(`params are a struct in text format, "(...)", not ${JSON.stringify(params)}`);
  const dot = target.lastIndexOf(".");
  if (dot <= 0 || dot === target.length - 1)
    throw new UsageError(`name the method as Interface.method, not ${JSON.stringify(target)}`);
  const s = loadSchema(schemaPath, args.schema);
  const iface = findInterface(s, target.slice(0, dot));
  const steps = [stepFor(s, iface, target.slice(dot + 1), params ?? "()", [])];
  for (const p of args.pipelines) steps.push(pipelineStep(s, steps.at(-1)!, p.target, p.params));
  return run(s, address, steps, args, out);
}

function loadSchema(path: string, args: SchemaArgs): Schema {
  const { loader, file } = loadSchemaFile(path, args);
  return { loader, file, printer: new SignaturePrinter(loader, file.filename), path };
}

/** `--list`'s name: an interface, or Interface.method (its interface). */
function findListed(s: Schema, name: string): InterfaceNode {
  try {
    return findInterface(s, name);
  } catch (e) {
    const dot = name.lastIndexOf(".");
    if (dot <= 0) throw e;
    let iface: InterfaceNode;
    try {
      iface = findInterface(s, name.slice(0, dot));
    } catch {
      throw e;
    }
    findMethod(s, iface, name.slice(dot + 1));
    return iface;
  }
}

async function run(
  s: Schema,
  address: string,
  steps: readonly Step[],
  args: CallArgs,
  out: CallOutput,
): Promise<number> {
  const rt = new Runtime();
  const infos = new Map<bigint, InterfaceInfo>();
  const held: { close(): void }[] = [];
  const calls: RemotePromise<StructReader, Pipeline>[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout =
    args.timeoutMs > 0
      ? new Promise<typeof TIMED_OUT>((resolve) => {
          timer = setTimeout(() => resolve(TIMED_OUT), args.timeoutMs);
        })
      : null;
  const timedOut = (): number => {
    out.stderr(`capnts call: no answer from ${address} within ${args.timeoutMs / 1000} s (--timeout)\n`);
    return 1;
  };
  try {
    const connecting = rt.connect(address);
    const connected = await (timeout === null ? connecting : Promise.race([connecting, timeout])).catch(
      (e: unknown) => e as Error,
    );
    if (connected === TIMED_OUT) {
      connecting.then(
        (c) => c.rpcSystem.shutdown(new Error("timed out")),
        () => {},
      );
      return timedOut();
    }
    if (connected instanceof Error) {
      out.stderr(`capnts call: ${connected.message}\n`);
      return 1;
    }
    let cap: Client = connected.bootstrap(clientClass(interfaceInfo(s, steps[0]!.iface, infos)));
    held.push(cap);
    for (const [i, step] of steps.entries()) {
      if (i > 0) {
        // The capability at `ops` in the previous call's results, before they arrive.
        let p: Pipeline = calls.at(-1)!.pipeline;
        for (const op of step.ops.slice(0, -1)) p = p._getPipeline(op, Pipeline);
        cap = p._getCap(step.ops.at(-1)!, clientClass(interfaceInfo(s, step.iface, infos)));
        held.push(cap);
      }
      const { owner, ordinal, method } = step.found;
      calls.push(
        cap._call(owner.id, ordinal, ctorFor(step.paramsNode), StructReader, Pipeline, (pb) =>
          encodeTextInto(step.params, pb, step.paramsNode, s.loader, bindingsOf(method.paramBrand)),
        ),
      );
    }
    // Only the last call is awaited: the ones before it may never return (a server may answer
    // pipelined calls through `setPipeline()` and keep its own call open), and their results
    // were only the way to the last capability. Their failures are noted as they come, so that
    // a failure is reported by the call that failed first, not the one it broke downstream.
    const failures: { index: number; error: unknown }[] = [];
    calls.slice(0, -1).forEach((rp, index) => {
      rp.then(undefined, (error: unknown) => failures.push({ index, error }));
    });
    const last = steps.at(-1)!;
    const settled = calls.at(-1)!.then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const outcome = await (timeout === null ? settled : Promise.race([settled, timeout]));
    if (outcome === TIMED_OUT) return timedOut();
    if (!outcome.ok) {
      failures.sort((a, b) => a.index - b.index);
      const first = failures[0];
      const [name, error] =
        first === undefined ? [last.name, outcome.e] : [steps[first.index]!.name, first.error];
      out.stderr(`capnts call: ${describeError(name, error)}\n`);
      return 1;
    }
    const text = formatStruct(outcome.r, last.resultsNode, {
      pretty: !args.short,
      loader: s.loader,
      bindings: bindingsOf(last.found.method.resultBrand),
    });
    out.stdout(`${text}\n`);
    return 0;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    for (const h of held) h.close();
    for (const c of calls) c.cancel();
    await rt.shutdown();
  }
}

/** "Interface.method failed (type): reason" for an RpcError; the message for anything else. */
function describeError(name: string, e: unknown): string {
  if (e instanceof RpcError) return `${name} failed (${e.type}): ${e.reason}`;
  return `${name} failed: ${e instanceof Error ? e.message : String(e)}`;
}
