/**
 * No import cycle anywhere in src/. A cycle between ES modules makes the order in which they
 * evaluate depend on which one is imported first: with a `class X extends Y` across the cycle,
 * importing the wrong file first throws `ReferenceError: Cannot access 'Y' before initialization`
 * (the RPC core had exactly that, and a one-line sorted import in connection.ts took the whole
 * RPC suite down at load). So the module graph must be a DAG, and this test says which files
 * close a loop when it is not.
 *
 * What counts as an edge: every `import` / `export … from` whose module is evaluated at run
 * time. `import type …` and `export type … from` are left out: they vanish when TypeScript is
 * erased, so they cannot affect evaluation order. An `import { type A } from "./x.js"` whose
 * names are all type-only is still an edge: under `verbatimModuleSyntax` (tsconfig.base.json)
 * it compiles to `import {} from "./x.js"`, which loads ./x.js. Dynamic `import()` runs after
 * the graph has loaded and is not an edge.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SRC = join(ROOT, "src");

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts") && !name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

/** The relative specifiers a file loads at run time (see the header for what is left out). */
function runtimeImports(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const st of sf.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(st)) {
      if (st.importClause?.isTypeOnly) continue;
      spec = st.moduleSpecifier;
    } else if (ts.isExportDeclaration(st)) {
      if (st.isTypeOnly || st.moduleSpecifier === undefined) continue;
      spec = st.moduleSpecifier;
    }
    if (spec !== undefined && ts.isStringLiteral(spec)) out.push(spec.text);
  }
  return out;
}

/** Maps "./x.js" (how ESM TypeScript names a sibling) to the .ts file it is compiled from. */
function resolveLocal(from: string, spec: string, files: Set<string>): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec);
  for (const cand of [base.replace(/\.js$/, ".ts"), base, `${base}.ts`, join(base, "index.ts")]) {
    if (files.has(cand)) return cand;
  }
  return undefined;
}

export function moduleGraph(root: string): Map<string, string[]> {
  const files = sourceFiles(root);
  const set = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const deps: string[] = [];
    for (const spec of runtimeImports(f, readFileSync(f, "utf8"))) {
      const to = resolveLocal(f, spec, set);
      if (to !== undefined) deps.push(to);
    }
    graph.set(f, deps);
  }
  return graph;
}

/**
 * The cycles of a graph: one per strongly connected component with a loop in it (Tarjan), with
 * the component's members and one concrete path a → b → … → a through it (the shortest from its
 * first member), so a failure says both what is tangled and where to cut.
 */
export function findCycles(graph: Map<string, readonly string[]>): { members: string[]; loop: string[] }[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  // Iterative, so a deep graph cannot overflow the call stack.
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: [string, number][] = [[start, 0]];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1] as [string, number];
      const [v, i] = top;
      const deps = graph.get(v) ?? [];
      if (i < deps.length) {
        top[1] = i + 1;
        const w = deps[i] as string;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined)
        low.set(parent[0], Math.min(low.get(parent[0]) as number, low.get(v) as number));
      if (low.get(v) === index.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop() as string;
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(comp);
      }
    }
  }
  return components.map((comp) => {
    const members = [...comp].sort();
    return { members, loop: shortestLoop(graph, new Set(comp), members[0] as string) };
  });
}

/** Breadth-first from `from` back to itself, staying inside one component. */
function shortestLoop(graph: Map<string, readonly string[]>, comp: Set<string>, from: string): string[] {
  const prev = new Map<string, string>();
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q] as string;
    for (const w of graph.get(v) ?? []) {
      if (!comp.has(w)) continue;
      if (w === from) {
        const path = [from];
        for (let u = v; u !== from; u = prev.get(u) as string) path.unshift(u);
        path.unshift(from);
        return path;
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [from, from];
}

test("findCycles finds a loop and names its path, and passes a DAG", () => {
  const g = new Map<string, string[]>([
    ["a", ["b"]],
    ["b", ["c", "d"]],
    ["c", ["a"]],
    ["d", []],
    ["e", ["e"]],
    ["f", ["d"]],
  ]);
  const cycles = findCycles(g);
  assert.deepEqual(cycles.map((c) => c.loop.join(" → ")).sort(), ["a → b → c → a", "e → e"]);
  assert.deepEqual(cycles.map((c) => c.members.join(",")).sort(), ["a,b,c", "e"]);
  assert.deepEqual(
    findCycles(
      new Map([
        ["a", ["b"]],
        ["b", []],
      ]),
    ),
    [],
  );
});

test("runtimeImports leaves out type-only imports and keeps the rest", () => {
  const text = [
    'import type { A } from "./a.js";',
    'import { type B } from "./b.js";',
    'import { C, type D } from "./c.js";',
    'export type { E } from "./e.js";',
    'export { F } from "./f.js";',
    'export * from "./g.js";',
    'import "./h.js";',
    'const later = () => import("./i.js");',
  ].join("\n");
  assert.deepEqual(runtimeImports("x.ts", text), ["./b.js", "./c.js", "./f.js", "./g.js", "./h.js"]);
});

test("src/ has no import cycle (type-only imports excluded)", () => {
  const graph = moduleGraph(SRC);
  assert.ok(graph.size > 50, `found only ${graph.size} modules under src/`);
  const name = (f: string) => relative(ROOT, f);
  const cycles = findCycles(graph).map(
    (c) => `${c.loop.map(name).join(" → ")} (the loop's component: ${c.members.map(name).join(", ")})`,
  );
  assert.deepEqual(cycles, [], `import cycles in src/:\n  ${cycles.join("\n  ")}`);
});
