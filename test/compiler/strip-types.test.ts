/**
 * `capnts compile --js` converts generated TypeScript with src/compiler/strip-types.ts, no
 * TypeScript compiler at run time. Here the real compiler (the devDependency) is the oracle:
 *
 * - the JavaScript of every generated file in the repository (and of fresh bindings of every test
 *   schema) parses to the same syntax tree as `ts.transpileModule`'s output (parentheses aside:
 *   tsc drops the ones an erased `as` leaves behind);
 * - the declaration files typecheck the repository's own code (src/, test/, examples/, bench/) in place
 *   of the .ts files, and each export's type equals the TypeScript module's;
 * - syntax the eraser does not know, or that is not erasable, is an error naming it and its line.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { StripTypesError, stripTypes } from "../../src/compiler/strip-types.js";
import { generateInto, needCapnp, ROOT, TEST_SCHEMAS, tempDir } from "./helpers.js";

const TREES = ["src", "test", "examples", "bench"];

/** Every generated file checked into the repository (`*.capnp.ts`). */
function generatedFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".capnp.ts")) out.push(p);
    }
  };
  for (const dir of TREES) walk(join(ROOT, dir));
  return out.sort();
}

/** What tsc emits for `source` with the semantics of Node's type stripping. */
function tscJs(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      useDefineForClassFields: true,
      // Relative imports of .ts files name the .js (generated code may name its imports .ts).
      rewriteRelativeImportExtensions: true,
    },
  }).outputText;
}

/** The module specifiers of a JavaScript module's imports and exports. */
function specifiers(js: string): string[] {
  return [...js.matchAll(/(?:from|import)\s*("[^"]*")/g)].map((m) => m[1]!);
}

/** The syntax tree of a JavaScript module as a list of node kinds and leaf texts. */
function shape(js: string, name: string): { kinds: string[]; at: number[] } {
  const sf = ts.createSourceFile(name, js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const diags = (sf as unknown as { parseDiagnostics: readonly ts.Diagnostic[] }).parseDiagnostics;
  assert.equal(
    diags.length,
    0,
    `${name} does not parse: ${diags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, " ")).join("; ")}`,
  );
  const kinds: string[] = [];
  const at: number[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isParenthesizedExpression(n)) {
      visit(n.expression);
      return;
    }
    let leaf = "";
    if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) leaf = n.text;
    else if (
      ts.isLiteralExpression(n) ||
      ts.isTemplateHead(n) ||
      ts.isTemplateMiddle(n) ||
      ts.isTemplateTail(n)
    )
      leaf = n.text;
    kinds.push(`${ts.SyntaxKind[n.kind]} ${leaf}`);
    at.push(n.getStart());
    ts.forEachChild(n, visit);
    kinds.push(")");
    at.push(n.end);
  };
  visit(sf);
  return { kinds, at };
}

/** Asserts that our JavaScript for `source` is tsc's, up to formatting and parentheses. */
function assertSameJs(source: string, name: string): void {
  const ours = stripTypes(source, name).js;
  const theirs = tscJs(source);
  const a = shape(ours, `${name} (capnts)`);
  const b = shape(theirs, `${name} (tsc)`);
  const n = Math.max(a.kinds.length, b.kinds.length);
  for (let i = 0; i < n; i++) {
    if (a.kinds[i] === b.kinds[i]) continue;
    const pa = a.at[i] ?? ours.length;
    const pb = b.at[i] ?? theirs.length;
    assert.fail(
      `${name}: the JavaScript differs from tsc's at node ${i}: ${a.kinds[i]} vs ${b.kinds[i]}\n` +
        `capnts: ${ours.slice(Math.max(0, pa - 100), pa + 100)}\n---\ntsc: ${theirs.slice(Math.max(0, pb - 100), pb + 100)}`,
    );
  }
}

test("the JavaScript of every generated file in the repository is tsc's", () => {
  const files = generatedFiles();
  // src/gen (5), schema.capnp.ts, the test, interop, example and benchmark bindings.
  assert.ok(files.length >= 14, files.join(", "));
  for (const f of files) assertSameJs(readFileSync(f, "utf8"), relative(ROOT, f));
});

test("the JavaScript of fresh bindings of every test schema is tsc's", (t) => {
  if (!needCapnp(t)) return;
  const out = tempDir("strip-fresh");
  try {
    const schemas = readdirSync(TEST_SCHEMAS).filter((f) => f.endsWith(".capnp"));
    const files = generateInto(
      out,
      schemas.map((f) => join(TEST_SCHEMAS, f)),
      [`--src-prefix=${TEST_SCHEMAS}`],
      "capnts",
    );
    assert.ok(files.length >= schemas.length);
    for (const f of files) assertSameJs(f.content, f.path);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/**
 * A copy of the repository's TypeScript tree (symlinks) in which each generated .ts file is
 * replaced by its .js and .d.ts, plus `<name>.orig.ts` (the TypeScript) and `<name>.check.ts`,
 * which requires every export of the declarations to have the TypeScript's type (both ways).
 */
function mirror(root: string): string[] {
  const generated = new Set(generatedFiles());
  const checks: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir))) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const rel = join(dir, name);
      const src = join(ROOT, rel);
      if (statSync(src).isDirectory()) {
        walk(rel);
        continue;
      }
      const dst = join(root, rel);
      mkdirSync(dirname(dst), { recursive: true });
      if (!generated.has(src)) {
        symlinkSync(src, dst);
        continue;
      }
      const source = readFileSync(src, "utf8");
      const { js, dts } = stripTypes(source, rel);
      const base = dst.slice(0, -".ts".length);
      const module = `./${name.slice(0, -".ts".length)}`;
      writeFileSync(`${base}.js`, js);
      writeFileSync(`${base}.d.ts`, dts);
      symlinkSync(src, `${base}.orig.ts`);
      // Two declarations of a `unique symbol` are two types by definition, so members keyed by
      // one (`[$inspect]()`) differ between the modules compared. Both copies compared import
      // the symbol from one module instead (the declarations under test are written as emitted).
      const symbols = [...dts.matchAll(/^declare const ([\w$]+): unique symbol;$/gm)].map((m) => m[1]!);
      if (symbols.length > 0) {
        let orig = source;
        let decl = dts;
        const shared: string[] = [];
        for (const sym of symbols) {
          const def = new RegExp(`^const \\${sym} = (Symbol(?:\\.for)?\\([^)]*\\));$`, "m").exec(orig);
          assert.ok(
            def !== null,
            `${rel}: ${sym} is declared as a unique symbol but not defined by Symbol()`,
          );
          shared.push(`export const ${sym}: unique symbol = ${def[1]};`);
          orig = orig.replace(def[0], `import { ${sym} } from "${module}.symbols.js";`);
          decl = decl.replace(
            `declare const ${sym}: unique symbol;`,
            `import { ${sym} } from "${module}.symbols.js";`,
          );
        }
        writeFileSync(`${base}.symbols.ts`, `${shared.join("\n")}\n`);
        writeFileSync(`${base}.orig.ts`.replace(/\.orig\.ts$/, ".same.ts"), orig);
        writeFileSync(`${base}.same.d.ts`.replace(/\.same\.d\.ts$/, ".cmp.d.ts"), decl);
      }
      const a = symbols.length > 0 ? `${module}.same.js` : `${module}.orig.js`;
      const b = symbols.length > 0 ? `${module}.cmp.js` : `${module}.js`;
      const values = [
        ...new Set(
          [...dts.matchAll(/^export declare (?:abstract )?(?:const|let|var|class|function) ([\w$]+)/gm)].map(
            (m) => m[1]!,
          ),
        ),
      ];
      const types = [
        ...dts.matchAll(/^export (?:type|interface) ([\w$]+)(?![\w$]*<)/gm),
        ...dts.matchAll(/^export declare (?:abstract )?class ([\w$]+)(?![\w$]*<)/gm),
      ].map((m) => m[1]!);
      const typeNames = [...new Set(types)];
      const lines = [
        `import type * as A from "${a}";`,
        `import type * as B from "${b}";`,
        "type Same<X, Y> = [X] extends [Y] ? ([Y] extends [X] ? true : false) : false;",
        "export const values: {",
        ...values.map((v) => `  ${JSON.stringify(v)}: Same<typeof A.${v}, typeof B.${v}>;`),
        "} = {",
        ...values.map((v) => `  ${JSON.stringify(v)}: true,`),
        "};",
        "export const types: {",
        ...typeNames.map((v) => `  ${JSON.stringify(v)}: Same<A.${v}, B.${v}>;`),
        "} = {",
        ...typeNames.map((v) => `  ${JSON.stringify(v)}: true,`),
        "};",
      ];
      writeFileSync(`${base}.check.ts`, `${lines.join("\n")}\n`);
      checks.push(`${base}.check.ts`);
    }
  };
  for (const dir of TREES) walk(dir);
  return checks;
}

test("the declaration files typecheck the repository's code in place of the TypeScript, with the same types", {
  timeout: 300_000,
}, () => {
  const root = tempDir("strip-dts");
  try {
    const checks = mirror(root);
    assert.ok(checks.length >= 10);
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
    // The package's name, exports and imports, so that "capnts/..." imports (tests, examples, the
    // bindings' capnts/codegenv1) and the runtime's "#..." ones resolve to the mirror's src/ as
    // they do in the repository. The mirror's src/gen holds .js + .d.ts pairs, so that subpath
    // points at them.
    const { name, exports, imports } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    exports["./gen/*.js"] = { types: "./src/gen/*.d.ts", default: "./src/gen/*.js" };
    writeFileSync(
      join(root, "package.json"),
      `${JSON.stringify({ name, type: "module", exports, imports })}\n`,
    );
    symlinkSync(join(ROOT, "scripts"), join(root, "scripts"));
    writeFileSync(
      join(root, "tsconfig.json"),
      JSON.stringify({
        extends: join(ROOT, "tsconfig.base.json"),
        compilerOptions: { noEmit: true, types: ["node"], skipLibCheck: true, preserveSymlinks: true },
        include: ["src", "test", "examples"],
        exclude: ["src/globals.d.ts", "node_modules"],
      }),
    );
    const r = spawnSync(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", root, "--pretty", "false"],
      { encoding: "utf8", maxBuffer: 1 << 26 },
    );
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`.split("\n").slice(0, 40).join("\n"));
  } finally {
    // CAPNTS_KEEP_MIRROR=1 keeps the tree for debugging a failure.
    if (process.env.CAPNTS_KEEP_MIRROR !== "1") rmSync(root, { recursive: true, force: true });
  }
});

test("constructs beyond generated code: same JavaScript as tsc", () => {
  const cases = [
    // arrow functions with return types, generic calls and arrows, satisfies, non-null
    "const f = (a: number, b?: string): number => a;\nconst g = async <T,>(x: T): Promise<T> => x;\n" +
      "const h = f<number>(1) satisfies number;\nlet k!: number;\nconst m = k!.toFixed(2)!;\n" +
      "const n = cond ? (a) : b;\nconst o = cond ? (a): string => a : null;\n",
    // classes: modifiers, overloads, abstract, index signatures, declare fields, this params
    "abstract class A<T extends object = {}> extends B<T> implements C, D<T> {\n" +
      "  declare x: number;\n  private readonly y: string = 'y';\n  static [key: string]: unknown;\n" +
      "  protected abstract z(): void;\n  m(a: string): string;\n  m(a: number): number;\n" +
      "  m(this: A<T>, a: any): any { return a; }\n  override get v(): number { return 1; }\n" +
      "  static { const q: number = 1; }\n  #p?: number = 2;\n  public w = <U,>(u: U): U => u;\n}\n",
    // type-only declarations and imports
    'import type { X } from "./x.js";\nimport { type Y, Z } from "./y.js";\nimport * as W from "./w.js";\n' +
      'export type { X };\nexport { type Y, Z, W };\ntype T<A> = A extends string ? "s" : A[];\n' +
      "interface I extends J<string> { a: number; b(): void }\ndeclare const c: number;\n" +
      "declare namespace N { type T = number; }\nexport declare function f(a: number): void;\n" +
      "function g(a: number): number;\nfunction g(a: any) { return a; }\nexport default class {}\n",
    // expressions around types: templates with braces, regexes, ASI, generics vs comparisons
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source with a template literal
    "const s = `a${{ b: 1 as number }.b}c${`d${e as string}`}`;\nconst r = /[/]<T>/g.test(s as string)\n" +
      "const lt = a < b && c > (d as number);\nconst shift = (x as number) >> 2 >>> 1;\n" +
      "for (const [k, v] of Object.entries(o as Record<string, number>)) { label: for (;;) break label; }\n" +
      "try { f(); } catch (e: unknown) { throw e as Error; }\nswitch (x as number) { case 1 as number: break; default: }\n" +
      "const obj = { m<T>(a: T): T { return a; }, get g(): number { return 1; }, set g(v: number) {}, [k as string]: 1 };\n",
  ];
  for (const [n, source] of cases.entries()) assertSameJs(source, `case${n}.ts`);
  // Module specifiers (the syntax tree compares their texts too).
  const imports =
    'import * as a from "./a.capnp.ts";\nimport b from "../b.mts";\nimport "./c.cts";\nimport d from "pkg/d.ts";\n' +
    'import type { E } from "./e.ts";\nimport f from "./f.d.ts";\nexport { g } from "./g.ts";\nexport * from "./h.js";\n';
  assertSameJs(imports, "imports.ts");
  const { js, dts } = stripTypes(imports, "imports.ts");
  assert.deepEqual(specifiers(js), [
    '"./a.capnp.js"',
    '"../b.mjs"',
    '"./c.cjs"',
    '"pkg/d.ts"',
    '"./f.d.ts"',
    '"./g.js"',
    '"./h.js"',
  ]);
  assert.deepEqual(specifiers(dts), [
    '"./a.capnp.js"',
    '"../b.mjs"',
    '"./c.cjs"',
    '"pkg/d.ts"',
    '"./e.js"',
    '"./f.d.ts"',
    '"./g.js"',
    '"./h.js"',
  ]);
});

test("constructs that are not erasable, or unknown, are errors naming the construct and its line", () => {
  const cases: [string, RegExp][] = [
    ["const a = 1;\nenum E { A }\n", /input\.ts:2:1: .*an enum/],
    ["namespace N { export const a = 1; }\n", /input\.ts:1:1: .*namespace with code/],
    [
      "class A {\n  constructor(private x: number) {}\n}\n",
      /input\.ts:2:15: .*parameter property `private x`/,
    ],
    ["const a = <number>b;\n", /input\.ts:1:11: .*type assertion/],
    ["@dec class A {}\n", /input\.ts:1:1: .*decorator/],
    ["import x = require('x');\n", /input\.ts:1:1: .*import x = /],
    ["export const x = compute();\n", /input\.ts:1:18: .*the type of `compute\(\)`/],
    ["export function f(a) { return a; }\n", /input\.ts:1:17: .*parameter `a` of function f has no type/],
    ["export class A { m() { return 1; } }\n", /input\.ts:1:18: .*the method m has no return type/],
    ["const s = 'unterminated\n", /input\.ts:1:11: .*unterminated string/],
    ["let x: Foo<;\n", /input\.ts:1:.*/],
  ];
  for (const [source, message] of cases) {
    assert.throws(
      () => stripTypes(source, "input.ts"),
      (e: unknown) => e instanceof StripTypesError && message.test(e.message),
      source,
    );
  }
});

test("declarations: unannotated initialisers get the types tsc gives them", () => {
  const { dts } = stripTypes(
    [
      "/** the symbol */",
      'const sym = Symbol.for("x");',
      "export const n = 1, s = 'a', b = -2n, t = true;",
      "export const o = { a: 1, b: 'x', c: [1, 2], d: { e: null }, f(x: number): string { return ''; } };",
      'export const k = { a: 0, b: ["x", "y"] } as const;',
      "export class C { static readonly w = 2; v = 3; [sym](): void {} }",
      "export let later: number | undefined;",
    ].join("\n"),
    "input.ts",
  );
  const expected = [
    "/** the symbol */",
    "declare const sym: unique symbol;",
    "export declare const n = 1;",
    "export declare const s = 'a';",
    "export declare const b = -2n;",
    "export declare const t = true;",
    "export declare const o: {\n    a: number;\n    b: string;\n    c: number[];\n    d: {\n        e: null;\n    };\n    f(x: number): string;\n};",
    'export declare const k: {\n    readonly a: 0;\n    readonly b: readonly ["x", "y"];\n};',
    "export declare class C {\n    static readonly w = 2;\n    v: number;\n    [sym](): void;\n}",
    "export declare let later: number | undefined;",
    "export {};",
  ];
  assert.equal(dts, `${expected.join("\n")}\n`);
});
