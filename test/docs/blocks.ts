/**
 * Fenced code blocks of the user documentation (README.md and docs/*.md), as the doc test sees
 * them.
 *
 * The fence's info string is a language and optional markers:
 *
 *   ```ts                typechecked as its own module (strict, the project's tsconfig)
 *   ```ts run            typechecked, then run; it must exit 0 within the time limit
 *   ```text output       right after a `ts run` block: what that block must print on stdout
 *   ```ts fragment       typechecked after FRAGMENT_PRELUDE (names a fragment uses undeclared)
 *   ```capnp file=x.capnp  written to x.capnp and compiled with `capnts compile`: blocks import
 *                        its bindings as "./gen/x.capnp.js"
 *   ```sh                not run; the `capnts` subcommands and `npm run` scripts it names must exist
 *
 * `typescript` and `js` count as `ts`. Other languages (text, json, capnp without file=) are
 * prose.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export interface Block {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the first line of code (after the opening fence). */
  line: number;
  lang: string;
  /** Markers after the language (`run`, `fragment`, `output`). */
  flags: Set<string>;
  /** `key=value` markers (`file=x.capnp`). */
  attrs: Map<string, string>;
  code: string;
  /** For a `ts run` block: the `text output` block that follows it, if any. */
  output?: Block;
}

export const TS_LANGS = new Set(["ts", "typescript", "js"]);
/** Markers the test understands, per language; anything else is a typo and fails the test. */
export const KNOWN_FLAGS: Readonly<Record<string, readonly string[]>> = {
  ts: ["run", "fragment"],
  text: ["output"],
};

/**
 * What a `ts fragment` block may use without declaring it: name → declaration. A fragment gets
 * the declarations of the names it uses and does not declare itself. Types are named with
 * import() so that the prelude adds no imports (an unused import is an error under
 * noUnusedLocals).
 */
export const FRAGMENT_PRELUDE: ReadonlyMap<string, string> = new Map([
  ["calc", 'declare const calc: import("./gen/calculator.capnp.js").Calculator.Client;'],
  ["directory", 'declare const directory: import("./gen/addressbook.capnp.js").Directory.Client;'],
  [
    "CalculatorImpl",
    'declare const CalculatorImpl: new () => import("./gen/calculator.capnp.js").Calculator.Server;',
  ],
]);

/** The prelude lines for a fragment's code (see FRAGMENT_PRELUDE). */
export function preludeFor(code: string): string {
  let out = "";
  for (const [name, decl] of FRAGMENT_PRELUDE) {
    if (!new RegExp(`\\b${name}\\b`).test(code)) continue;
    const declared = new RegExp(
      `\\b(?:const|let|var|function|class|using)\\s+${name}\\b|import\\s[^;]*\\b${name}\\b[^;]*from`,
    );
    if (!declared.test(code)) out += `${decl}\n`;
  }
  return out;
}

/** The documentation files: README.md and every docs/*.md, relative to `root`. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => join("docs", f));
  return ["README.md", ...docs];
}

/** Every fenced block of `file` (relative to `root`). */
export function extractBlocks(root: string, file: string): Block[] {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const words = open[3]!
      .trim()
      .split(/\s+/)
      .filter((w) => w !== "");
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim().startsWith(fence[0]!.repeat(fence.length)) && l.trim().replace(/[`~]/g, "") === "") break;
      code.push(l.slice(Math.min(indent, l.length - l.trimStart().length)));
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: unclosed code fence`);
    const rawLang = (words[0] ?? "").toLowerCase();
    const lang = TS_LANGS.has(rawLang) ? "ts" : rawLang;
    const flags = new Set<string>();
    const attrs = new Map<string, string>();
    for (const w of words.slice(1)) {
      const eq = w.indexOf("=");
      if (eq > 0) attrs.set(w.slice(0, eq), w.slice(eq + 1));
      else flags.add(w);
    }
    const block: Block = { file, line: i + 2, lang, flags, attrs, code: `${code.join("\n")}\n` };
    const prev = out[out.length - 1];
    if (lang === "text" && flags.has("output") && prev?.flags.has("run")) {
      prev!.output = block;
    }
    out.push(block);
    i = j;
  }
  return out;
}

/** Problems with markers: unknown ones, `output` blocks that follow no `ts run` block. */
export function markerProblems(blocks: readonly Block[]): string[] {
  const problems: string[] = [];
  for (const b of blocks) {
    const where = `${b.file}:${b.line - 1}`;
    const known = KNOWN_FLAGS[b.lang] ?? [];
    for (const f of b.flags) {
      if (!known.includes(f))
        problems.push(`${where}: unknown marker "${f}" on a ${b.lang || "plain"} block`);
    }
    for (const k of b.attrs.keys()) {
      if (!(b.lang === "capnp" && k === "file")) problems.push(`${where}: unknown attribute "${k}"`);
    }
    if (b.flags.has("run") && b.flags.has("fragment")) problems.push(`${where}: a fragment cannot run`);
    if (b.lang === "text" && b.flags.has("output")) {
      const owner = blocks.find((x) => x.output === b);
      if (owner === undefined) problems.push(`${where}: an output block must follow a \`ts run\` block`);
    }
    const f = b.attrs.get("file");
    if (f !== undefined && !/^[a-z0-9-]+\.capnp$/.test(f))
      problems.push(`${where}: bad schema file name ${f}`);
  }
  return problems;
}

/** A file name for a block's module: `<doc>-L<line>.ts`. */
export function moduleName(b: Block): string {
  const base = relative("docs", b.file).startsWith("..")
    ? b.file.replace(/\.md$/, "")
    : relative("docs", b.file).replace(/\.md$/, "");
  return `${base.replace(/[^A-Za-z0-9]+/g, "_")}-L${b.line}.ts`;
}
