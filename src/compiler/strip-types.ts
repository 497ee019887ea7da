/**
 * JavaScript and declarations from generated TypeScript, without a TypeScript compiler.
 *
 * `capnts compile --js` must work whatever TypeScript the user has, or none (TypeScript 7 is a
 * native binary with no JavaScript API). Generated code uses only erasable syntax
 * (docs/generated-code-contract.md), so the JavaScript is the source with the TypeScript parts
 * removed, and the declaration file is the source's declarations with bodies and initialisers
 * removed. This module parses the TypeScript a code generator writes (the whole statement and
 * expression grammar of ES2022 modules plus TypeScript's type syntax) just far enough to know
 * where each type annotation, type declaration and modifier starts and ends.
 *
 * Anything it does not know, or that is not erasable (enums, runtime namespaces, parameter
 * properties, decorators, `<T>x` assertions, a declaration whose type it cannot state), is an
 * error naming the construct and its line: never a silently wrong output.
 *
 * The JavaScript is what `tsc` emits with `verbatimModuleSyntax` and `useDefineForClassFields`
 * (Node's type stripping semantics): imports are kept unless `import type`, class fields stay
 * class fields. Declarations follow `tsc --declaration`: JSDoc comments kept, types as written,
 * the types of unannotated initialisers stated from their literal form.
 */

/** A construct the eraser does not handle, with its position in the source. */
export class StripTypesError extends Error {
  override name = "StripTypesError";
}

export interface StrippedModule {
  /** The module with its TypeScript syntax removed. */
  js: string;
  /** Its declaration file. */
  dts: string;
}

// ---------------------------------------------------------------------------------------------
// Tokens

type Kind = "id" | "num" | "str" | "tmpl" | "head" | "mid" | "tail" | "regex" | "punc" | "priv" | "eof";

interface Token {
  k: Kind;
  /** Text (for punctuators and identifiers; source slice for the rest). */
  v: string;
  s: number;
  e: number;
  /** A line break between the previous token and this one. */
  nl: boolean;
  /** Index of the matching bracket / template part, for ( [ { head mid. */
  m: number;
}

interface Comment {
  s: number;
  e: number;
  block: boolean;
}

// `>` is always a token of its own (`>>`, `>=` are put together by the expression parser) so
// that type argument lists close where types end.
const PUNCS = [
  "...",
  "===",
  "!==",
  "**=",
  "<<=",
  "&&=",
  "||=",
  "??=",
  "=>",
  "==",
  "!=",
  "<=",
  "&&",
  "||",
  "??",
  "?.",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "**",
  "<<",
];
const SINGLE = "{}()[];,<>+-*/%&|^!~?:=.@";

const REGEX_AFTER_WORD = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 36 || c === 95 || c > 127;
}
function isIdPart(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}

class Lexer {
  readonly tokens: Token[] = [];
  readonly comments: Comment[] = [];
  private p = 0;
  private nl = false;
  constructor(
    private readonly src: string,
    private readonly fail: (msg: string, at: number) => never,
  ) {}

  run(): Token[] {
    const src = this.src;
    // Brackets and template parts still open, as token indexes.
    const open: number[] = [];
    while (true) {
      this.skipTrivia();
      if (this.p >= src.length) break;
      const s = this.p;
      const c = src.charCodeAt(s);
      const ch = src[s]!;
      if (isIdStart(c) || c === 92) {
        if (c === 92) this.fail("unicode escapes in identifiers", s);
        let e = s + 1;
        while (e < src.length && isIdPart(src.charCodeAt(e))) e++;
        this.push("id", src.slice(s, e), s, e);
      } else if (ch === "#" && isIdStart(src.charCodeAt(s + 1))) {
        let e = s + 2;
        while (e < src.length && isIdPart(src.charCodeAt(e))) e++;
        this.push("priv", src.slice(s, e), s, e);
      } else if ((c >= 48 && c <= 57) || (ch === "." && /[0-9]/.test(src[s + 1] ?? ""))) {
        const m =
          /^(?:0[xX][0-9a-fA-F_]+n?|0[oO][0-7_]+n?|0[bB][01_]+n?|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?n?)/.exec(
            src.slice(s, s + 400),
          );
        if (m === null) this.fail("a number literal", s);
        this.push("num", m[0], s, s + m[0].length);
      } else if (ch === '"' || ch === "'") {
        let e = s + 1;
        while (e < src.length && src[e] !== ch) {
          if (src[e] === "\\") e++;
          else if (src[e] === "\n") this.fail("an unterminated string", s);
          e++;
        }
        if (e >= src.length) this.fail("an unterminated string", s);
        this.push("str", src.slice(s, e + 1), s, e + 1);
      } else if (ch === "`") {
        this.template(s + 1, s, "tmpl", "head", open);
      } else if (ch === "}" && open.length > 0 && this.tokens[open.at(-1)!]!.k !== "punc") {
        // The end of a `${...}` substitution: the template continues.
        this.template(s + 1, s, "tail", "mid", open);
      } else if (ch === "/" && this.regexAllowed()) {
        this.regex(s);
      } else {
        const three = src.slice(s, s + 3);
        const p = PUNCS.find((x) => three.startsWith(x)) ?? (SINGLE.includes(ch) ? ch : undefined);
        if (p === undefined) this.fail(`the character ${JSON.stringify(ch)}`, s);
        const i = this.push("punc", p, s, s + p.length);
        if (p === "(" || p === "[" || p === "{") open.push(i);
        else if (p === ")" || p === "]" || p === "}") {
          const o = open.pop();
          const want = p === ")" ? "(" : p === "]" ? "[" : "{";
          if (o === undefined || this.tokens[o]!.v !== want) this.fail(`an unmatched "${p}"`, s);
          this.tokens[o]!.m = i;
          this.tokens[i]!.m = o;
        }
      }
    }
    if (open.length > 0)
      this.fail(`an unclosed "${this.tokens[open.at(-1)!]!.v}"`, this.tokens[open.at(-1)!]!.s);
    this.tokens.push({ k: "eof", v: "", s: src.length, e: src.length, nl: true, m: -1 });
    return this.tokens;
  }

  private push(k: Kind, v: string, s: number, e: number): number {
    this.tokens.push({ k, v, s, e, nl: this.nl, m: -1 });
    this.nl = false;
    this.p = e;
    return this.tokens.length - 1;
  }

  /** A template piece from `from` to the closing backtick (kind `end`) or `${` (kind `cont`). */
  private template(from: number, s: number, end: Kind, cont: Kind, open: number[]): void {
    const src = this.src;
    let e = from;
    while (e < src.length) {
      if (src[e] === "\\") e += 2;
      else if (src[e] === "`") {
        const i = this.push(end, src.slice(s, e + 1), s, e + 1);
        if (end === "tail") this.closeTemplate(open, i);
        return;
      } else if (src[e] === "$" && src[e + 1] === "{") {
        const i = this.push(cont, src.slice(s, e + 2), s, e + 2);
        if (cont === "mid") this.closeTemplate(open, i);
        open.push(i);
        return;
      } else e++;
    }
    this.fail("an unterminated template literal", s);
  }

  private closeTemplate(open: number[], i: number): void {
    const o = open.pop()!;
    this.tokens[o]!.m = i;
  }

  private regexAllowed(): boolean {
    const prev = this.tokens.at(-1);
    if (prev === undefined) return true;
    if (prev.k === "id") return REGEX_AFTER_WORD.has(prev.v);
    if (prev.k === "punc") return prev.v !== ")" && prev.v !== "]" && prev.v !== "}";
    return false;
  }

  private regex(s: number): void {
    const src = this.src;
    let e = s + 1;
    let cls = false;
    while (e < src.length) {
      const ch = src[e]!;
      if (ch === "\n") this.fail("an unterminated regular expression", s);
      if (ch === "\\") e++;
      else if (ch === "[") cls = true;
      else if (ch === "]") cls = false;
      else if (ch === "/" && !cls) break;
      e++;
    }
    e++;
    while (e < src.length && isIdPart(src.charCodeAt(e))) e++;
    this.push("regex", src.slice(s, e), s, e);
  }

  private skipTrivia(): void {
    const src = this.src;
    while (this.p < src.length) {
      const ch = src[this.p]!;
      if (ch === "\n") {
        this.nl = true;
        this.p++;
      } else if (ch === " " || ch === "\t" || ch === "\r" || ch === "\f" || ch === "\v" || ch === "\ufeff") {
        this.p++;
      } else if (ch === "/" && src[this.p + 1] === "/") {
        const e = src.indexOf("\n", this.p);
        const end = e < 0 ? src.length : e;
        this.comments.push({ s: this.p, e: end, block: false });
        this.p = end;
      } else if (ch === "/" && src[this.p + 1] === "*") {
        const e = src.indexOf("*/", this.p + 2);
        if (e < 0) this.fail("an unterminated comment", this.p);
        if (src.slice(this.p, e).includes("\n")) this.nl = true;
        this.comments.push({ s: this.p, e: e + 2, block: true });
        this.p = e + 2;
      } else if (ch === "\u2028" || ch === "\u2029") {
        this.nl = true;
        this.p++;
      } else if (ch === "#" && this.p === 0 && src[1] === "!") {
        const e = src.indexOf("\n");
        this.p = e < 0 ? src.length : e;
      } else return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Declarations collected for the .d.ts

/** The type of an expression, for an unannotated declaration (null: not stateable). */
interface Value {
  kind: "literal" | "ident" | "object" | "array" | "fn" | "symbol" | "typed" | "other";
  s: number;
  e: number;
  /** literal: "number" | "string" | "bigint" | "boolean" | "null" | "undefined"; typed: the type. */
  text?: string;
  /** literal in its source form; ident: the name. */
  lit?: string;
  asConst?: boolean;
  members?: ObjMember[];
  elements?: Value[];
  /** fn: the signature "(a: T) => R". */
  sig?: string;
}

interface ObjMember {
  kind: "prop" | "method" | "get" | "set";
  name: string;
  value?: Value;
  /** method/get/set: "(params): R" */
  sig?: string;
  /** Where the member starts (for its JSDoc). */
  at: number;
}

interface Param {
  text: string;
}

interface Signature {
  typeParams: string;
  params: Param[];
  /** The return type as written, or "". */
  ret: string;
}

interface ClassMember {
  render: (indent: string) => string;
  /** Method name, for dropping an implementation after overload signatures. */
  name: string;
  overload: boolean;
  implementation: boolean;
}

interface TopDecl {
  names: string[];
  exported: boolean;
  /** Imports and export lists: always in the declarations. */
  always?: boolean;
  render: () => string;
}

const MODIFIERS = new Set([
  "public",
  "private",
  "protected",
  "readonly",
  "static",
  "override",
  "abstract",
  "declare",
  "accessor",
  "async",
]);
const ERASED_MODIFIERS = new Set([
  "public",
  "private",
  "protected",
  "readonly",
  "override",
  "abstract",
  "declare",
]);
const BINARY = new Set([
  "=",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "**=",
  "<<=",
  "&=",
  "|=",
  "^=",
  "&&=",
  "||=",
  "??=",
  "==",
  "!=",
  "===",
  "!==",
  "<",
  "<=",
  "<<",
  "+",
  "-",
  "*",
  "/",
  "%",
  "**",
  "&",
  "|",
  "^",
  "&&",
  "||",
  "??",
  ",",
]);
const PREFIX = new Set(["!", "~", "+", "-", "++", "--", "typeof", "void", "delete", "await", "..."]);

// ---------------------------------------------------------------------------------------------
// Parser

class Stripper {
  private readonly t: Token[];
  private readonly comments: Comment[];
  private i = 0;
  /** Ranges of the source removed from the JavaScript. */
  private readonly cuts: [number, number][] = [];
  /** Module specifiers rewritten in both outputs (`./x.ts` → `./x.js`): offset → new text. */
  private readonly specifierEdits = new Map<number, { e: number; text: string }>();
  readonly decls: TopDecl[] = [];
  /** Top-level constants initialised with a literal: their type widens inside object literals. */
  private readonly literalConsts = new Map<string, Value>();

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {
    const lexer = new Lexer(src, (m, at) => this.fail(m, at));
    this.t = lexer.run();
    this.comments = lexer.comments;
  }

  // --- errors and positions

  /** Offsets where lines start (for positions in errors; made on the first error). */
  private lineStarts: number[] | undefined;

  fail(what: string, at: number): never {
    if (this.lineStarts === undefined) {
      this.lineStarts = [0];
      for (let k = this.src.indexOf("\n"); k >= 0; k = this.src.indexOf("\n", k + 1))
        this.lineStarts.push(k + 1);
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    const line = lo + 1;
    const col = at - starts[lo]! + 1;
    throw new StripTypesError(
      `${this.file}:${line}:${col}: cannot convert to JavaScript: ${what} ` +
        "(capnts compile --js handles the erasable TypeScript that generated code uses)",
    );
  }

  private unexpected(): never {
    const tok = this.tok;
    this.fail(
      tok.k === "eof" ? "unexpected end of file" : `unexpected "${this.src.slice(tok.s, tok.e)}"`,
      tok.s,
    );
  }

  private get tok(): Token {
    return this.t[this.i]!;
  }
  private peek(n = 1): Token {
    return this.t[Math.min(this.i + n, this.t.length - 1)]!;
  }
  private is(v: string, n = 0): boolean {
    const tok = this.peek(n);
    return (tok.k === "punc" || tok.k === "id") && tok.v === v;
  }
  private eat(v: string): boolean {
    if (this.is(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  private expect(v: string): Token {
    if (!this.is(v)) this.unexpected();
    return this.t[this.i++]!;
  }
  private text(s: number, e: number): string {
    return this.src.slice(s, e);
  }
  /** End offset of the token before the current one. */
  private prevEnd(): number {
    return this.i > 0 ? this.t[this.i - 1]!.e : 0;
  }

  // --- cutting

  /** Removes [s, e) from the JavaScript. */
  private cut(s: number, e: number): void {
    if (e > s) this.cuts.push([s, e]);
  }

  /** Removes a modifier keyword (token index) and the blanks after it. */
  private cutWord(k: number): void {
    const tok = this.t[k]!;
    this.cut(tok.s, this.t[k + 1]!.s);
  }

  /**
   * Removes a whole statement or member [s, e) with its attached comments and its line, so that
   * no empty line or orphaned JSDoc remains.
   */
  private cutStatement(s: number, e: number): void {
    const start = this.leadingCommentsStart(s);
    let a = start;
    while (a > 0 && (this.src[a - 1] === " " || this.src[a - 1] === "\t")) a--;
    if (a > 0 && this.src[a - 1] === "\n") a--;
    else a = start;
    let b = e;
    while (b < this.src.length && (this.src[b] === " " || this.src[b] === "\t")) b++;
    if (a === start && this.src[b] === "\n") b++;
    this.cut(a, b);
  }

  /** Start of the comments attached to a declaration starting at `s` (no blank line between). */
  private leadingCommentsStart(s: number, jsdocOnly = false): number {
    let start = s;
    for (let c = this.commentBefore(s); c >= 0; c--) {
      const cm = this.comments[c]!;
      const gap = this.src.slice(cm.e, start);
      if (/\S/.test(gap) || (gap.match(/\n/g)?.length ?? 0) > 1) break;
      if (jsdocOnly && !this.src.startsWith("/**", cm.s)) break;
      const lineStart = this.src.lastIndexOf("\n", cm.s - 1) + 1;
      if (/\S/.test(this.src.slice(lineStart, cm.s))) break;
      start = cm.s;
    }
    return start;
  }

  /** Index of the last comment ending at or before `s`, or -1. */
  private commentBefore(s: number): number {
    let lo = 0;
    let hi = this.comments.length - 1;
    let r = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.comments[mid]!.e <= s) {
        r = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return r;
  }

  /** The JSDoc comments attached to a declaration at `s`, re-indented with `indent`. */
  private doc(s: number, indent: string): string {
    const start = this.leadingCommentsStart(s, true);
    if (start === s) return "";
    const lines = this.text(start, s).trim().split("\n");
    return `${lines.map((l, n) => (n === 0 ? indent + l.trim() : `${indent} ${l.trim()}`)).join("\n")}\n`;
  }

  js(): string {
    const cuts = this.cuts.sort((a, b) => a[0] - b[0]);
    let out = "";
    let p = 0;
    for (const [s, e] of cuts) {
      if (e <= p) continue;
      out += this.withSpecifiers(p, Math.max(p, s));
      p = e;
    }
    return out + this.withSpecifiers(p, this.src.length);
  }

  /** Source text [s, e) with the module specifiers in it rewritten. */
  private withSpecifiers(s: number, e: number): string {
    let out = "";
    let p = s;
    for (const [at, edit] of this.specifierEdits) {
      if (at < s || edit.e > e) continue;
      out += this.src.slice(p, at) + edit.text;
      p = edit.e;
    }
    return out + this.src.slice(p, e);
  }

  /**
   * The module specifier at the cursor (a string token): a relative path to a TypeScript file
   * names its JavaScript (`"./x.capnp.ts"` → `"./x.capnp.js"`, as tsc's
   * rewriteRelativeImportExtensions), so that generated code naming its imports with `.ts`
   * converts to JavaScript and declarations that resolve.
   */
  private moduleSpecifier(): void {
    const tok = this.tok;
    if (tok.k !== "str") this.unexpected();
    this.i++;
    const m = /^(["'])(\.\.?\/.*?)(?<!\.d)\.([mc]?)ts\1$/.exec(tok.v);
    if (m !== null) this.specifierEdits.set(tok.s, { e: tok.e, text: `${m[1]}${m[2]}.${m[3]}js${m[1]}` });
  }

  // --- types (pure: return the index after the type, or throw)

  /** Skips a type starting at token k; returns the index after it. */
  private typeEnd(k: number): number {
    let j = this.unionEnd(k);
    if (this.t[j]!.v === "extends" && this.t[j]!.k === "id" && !this.t[j]!.nl) {
      j = this.unionEnd(j + 1);
      if (this.t[j]!.v !== "?") this.fail("a conditional type", this.t[j]!.s);
      j = this.typeEnd(j + 1);
      if (this.t[j]!.v !== ":") this.fail("a conditional type", this.t[j]!.s);
      j = this.typeEnd(j + 1);
    }
    return j;
  }

  private unionEnd(k: number): number {
    let j = k;
    if (this.t[j]!.v === "|" || this.t[j]!.v === "&") j++;
    j = this.operatorTypeEnd(j);
    while (this.t[j]!.k === "punc" && (this.t[j]!.v === "|" || this.t[j]!.v === "&"))
      j = this.operatorTypeEnd(j + 1);
    return j;
  }

  private operatorTypeEnd(k: number): number {
    const tok = this.t[k]!;
    if (tok.k === "id" && (tok.v === "keyof" || tok.v === "unique" || tok.v === "readonly")) {
      const next = this.t[k + 1]!;
      if (next.k === "id" || next.v === "(" || next.v === "[" || next.v === "{")
        return this.operatorTypeEnd(k + 1);
    }
    if (tok.k === "id" && tok.v === "infer") {
      let j = k + 2;
      if (this.t[j]!.v === "extends" && this.t[j + 1]!.v !== "?") j = this.unionEnd(j + 1);
      return j;
    }
    let j = this.primaryTypeEnd(k);
    while (this.t[j]!.v === "[" && this.t[j]!.k === "punc" && !this.t[j]!.nl) j = this.t[j]!.m + 1;
    return j;
  }

  private primaryTypeEnd(k: number): number {
    const tok = this.t[k]!;
    if (tok.k === "punc") {
      if (tok.v === "{" || tok.v === "[") return tok.m + 1;
      if (tok.v === "(") {
        const after = this.t[tok.m + 1]!;
        if (after.v === "=>") return this.typeEnd(tok.m + 2);
        return tok.m + 1;
      }
      if (tok.v === "<") {
        const j = this.typeParamsEnd(k);
        if (this.t[j]!.v !== "(") this.fail("a generic function type", tok.s);
        const close = this.t[j]!.m;
        if (this.t[close + 1]!.v !== "=>") this.fail("a generic function type", tok.s);
        return this.typeEnd(close + 2);
      }
      if (tok.v === "-" && this.t[k + 1]!.k === "num") return k + 2;
      this.fail(`a type starting with "${tok.v}"`, tok.s);
    }
    if (tok.k === "str" || tok.k === "num" || tok.k === "tmpl") return k + 1;
    if (tok.k === "head") {
      let j = k;
      while (this.t[j]!.k !== "tail") j = this.typeEnd(j + 1);
      return j + 1;
    }
    if (tok.k !== "id") this.fail(`a type starting with "${this.text(tok.s, tok.e)}"`, tok.s);
    if (tok.v === "new" || (tok.v === "abstract" && this.t[k + 1]!.v === "new")) {
      let j = tok.v === "abstract" ? k + 2 : k + 1;
      if (this.t[j]!.v === "<") j = this.typeParamsEnd(j);
      if (this.t[j]!.v !== "(") this.fail("a constructor type", tok.s);
      j = this.t[j]!.m + 1;
      if (this.t[j]!.v !== "=>") this.fail("a constructor type", tok.s);
      return this.typeEnd(j + 1);
    }
    let j = k + 1;
    if (tok.v === "typeof") {
      if (this.t[j]!.v === "import") j++;
      else j = this.entityEnd(j);
    }
    if (tok.v === "import" && this.t[j]!.v === "(") j = this.t[j]!.m + 1;
    while (this.t[j]!.v === "." && this.t[j]!.k === "punc") j += 2;
    if (this.t[j]!.v === "<" && !this.t[j]!.nl) j = this.typeArgsEnd(j);
    return j;
  }

  /** id(.id)* */
  private entityEnd(k: number): number {
    if (this.t[k]!.k !== "id") this.fail("a type name", this.t[k]!.s);
    let j = k + 1;
    while (this.t[j]!.v === "." && this.t[j + 1]!.k === "id") j += 2;
    return j;
  }

  /** `<T, U<V>>` starting at k (a "<"); returns the index after the ">". */
  private typeArgsEnd(k: number): number {
    let j = k + 1;
    while (true) {
      j = this.typeEnd(j);
      if (this.t[j]!.v === ",") j++;
      else break;
    }
    if (this.t[j]!.v !== ">") this.fail("a type argument list", this.t[k]!.s);
    return j + 1;
  }

  /** `<in out const T extends X = Y, ...>` starting at k. */
  private typeParamsEnd(k: number): number {
    let j = k + 1;
    while (this.t[j]!.v !== ">") {
      while (["in", "out", "const"].includes(this.t[j]!.v) && this.t[j + 1]!.k === "id") j++;
      if (this.t[j]!.k !== "id") this.fail("a type parameter list", this.t[j]!.s);
      j++;
      if (this.t[j]!.v === "extends") j = this.typeEnd(j + 1);
      if (this.t[j]!.v === "=") j = this.typeEnd(j + 1);
      if (this.t[j]!.v === ",") j++;
      else if (this.t[j]!.v !== ">") this.fail("a type parameter list", this.t[j]!.s);
    }
    return j + 1;
  }

  /** A return type: also `x is T`, `asserts x is T`, `this is T`. */
  private returnTypeEnd(k: number): number {
    const a = this.t[k]!;
    const b = this.t[k + 1]!;
    if (a.k === "id" && a.v === "asserts" && b.k === "id" && b.v !== "is") {
      return this.t[k + 2]!.v === "is" ? this.typeEnd(k + 3) : k + 2;
    }
    if (a.k === "id" && b.k === "id" && b.v === "is" && !b.nl) return this.typeEnd(k + 2);
    return this.typeEnd(k);
  }

  /** Parses a type at the cursor; returns its source text. */
  private type(ret = false): string {
    const s = this.tok.s;
    const j = ret ? this.returnTypeEnd(this.i) : this.typeEnd(this.i);
    this.i = j;
    return this.text(s, this.prevEnd());
  }

  /** `: T` at the cursor (if any): cut from the JS; returns T's text or "". */
  private annotation(ret = false): string {
    if (!this.is(":")) return "";
    const colon = this.tok.s;
    this.i++;
    const text = this.type(ret);
    this.cut(this.cutStartBefore(colon), this.prevEnd());
    return text;
  }

  /** Where a cut of syntax starting at `s` should start: right after the previous token. */
  private cutStartBefore(s: number): number {
    let k = this.i;
    while (k > 0 && this.t[k]!.s >= s) k--;
    return this.t[k]!.e <= s ? this.t[k]!.e : s;
  }

  /** `<...>` type parameters at the cursor (if any), cut; returns their text or "". */
  private typeParams(): string {
    if (!this.is("<")) return "";
    const s = this.tok.s;
    this.i = this.typeParamsEnd(this.i);
    this.cut(s, this.prevEnd());
    return this.text(s, this.prevEnd());
  }

  // --- statements

  module(): void {
    while (this.tok.k !== "eof") this.statement(true);
  }

  private semi(): void {
    if (this.eat(";")) return;
    if (this.tok.nl || this.is("}") || this.tok.k === "eof") return;
    this.unexpected();
  }

  private block(): void {
    this.expect("{");
    while (!this.is("}")) this.statement(false);
    this.i++;
  }

  private statement(top: boolean): void {
    const tok = this.tok;
    const s = tok.s;
    if (tok.k === "punc") {
      if (tok.v === ";") {
        this.i++;
        return;
      }
      if (tok.v === "{") {
        this.block();
        return;
      }
      if (tok.v === "@") this.fail("a decorator (not erasable)", s);
    }
    if (tok.k === "id") {
      const next = this.peek();
      const sameLine = !next.nl;
      switch (tok.v) {
        case "import":
          if (next.v !== "(" && next.v !== ".") {
            this.importDecl(top);
            return;
          }
          break;
        case "export": {
          this.exportDecl(top);
          return;
        }
        case "declare":
          if (sameLine && next.k === "id") {
            this.declareStatement(top, false, s);
            return;
          }
          break;
        case "type":
          if (sameLine && next.k === "id" && (this.is("=", 2) || this.is("<", 2))) {
            this.typeAlias(top, false, s);
            return;
          }
          break;
        case "interface":
          if (sameLine && next.k === "id") {
            this.interfaceDecl(top, false, s);
            return;
          }
          break;
        case "enum":
          this.fail("an enum (not erasable; generated code uses const objects)", s);
          break;
        case "namespace":
        case "module":
          if (sameLine && (next.k === "id" || next.k === "str"))
            this.fail(`a ${tok.v} with code (not erasable; only \`declare namespace\` is)`, s);
          break;
        case "abstract":
          if (sameLine && next.v === "class") {
            this.cutWord(this.i);
            this.i++;
            this.classDecl(top, false, s, true);
            return;
          }
          break;
        case "class":
          this.classDecl(top, false, s, false);
          return;
        case "function":
          this.functionDecl(top, false, s);
          return;
        case "async":
          if (sameLine && next.v === "function") {
            this.functionDecl(top, false, s);
            return;
          }
          break;
        case "const":
        case "var":
          if (next.v === "enum") this.fail("a const enum (not erasable)", s);
          this.varStatement(top, false, s);
          return;
        case "let":
          if (next.k === "id" || next.v === "[" || next.v === "{") {
            this.varStatement(top, false, s);
            return;
          }
          break;
        case "using":
          if (sameLine && next.k === "id") {
            this.varStatement(top, false, s);
            return;
          }
          break;
        case "if":
          this.i++;
          this.parenExpr();
          this.statement(false);
          if (this.eat("else")) this.statement(false);
          return;
        case "while":
          this.i++;
          this.parenExpr();
          {
            this.statement(false);
            return;
          }
        case "do":
          this.i++;
          this.statement(false);
          this.expect("while");
          this.parenExpr();
          this.eat(";");
          return;
        case "for": {
          this.forStatement();
          return;
        }
        case "switch":
          this.i++;
          this.parenExpr();
          this.expect("{");
          while (!this.is("}")) {
            if (this.eat("case")) {
              this.expr(false);
              this.expect(":");
            } else if (this.eat("default")) this.expect(":");
            else this.statement(false);
          }
          this.i++;
          return;
        case "try":
          this.i++;
          this.block();
          if (this.eat("catch")) {
            if (this.eat("(")) {
              this.binding();
              this.annotation();
              this.expect(")");
            }
            this.block();
          }
          if (this.eat("finally")) this.block();
          return;
        case "return":
        case "throw":
          this.i++;
          if (!this.tok.nl && !this.is(";") && !this.is("}") && this.tok.k !== "eof") this.expr(false);
          {
            this.semi();
            return;
          }
        case "break":
        case "continue":
          this.i++;
          if (this.tok.k === "id" && !this.tok.nl) this.i++;
          {
            this.semi();
            return;
          }
        case "debugger":
          this.i++;
          {
            this.semi();
            return;
          }
        case "await":
          if (sameLine && next.v === "using") {
            this.i++;
            this.varStatement(top, false, s);
            return;
          }
          break;
        default:
          if (next.v === ":" && next.k === "punc") {
            // label
            this.i += 2;
            this.statement(false);
            return;
          }
      }
    }
    this.expr(false);
    this.semi();
  }

  private parenExpr(): void {
    this.expect("(");
    this.expr(false);
    this.expect(")");
  }

  private forStatement(): void {
    this.i++;
    this.eat("await");
    this.expect("(");
    if (this.is("const") || this.is("var") || this.is("let") || this.is("using")) {
      this.i++;
      do {
        this.binding();
        this.annotation();
        if (this.eat("=")) this.expr(true, true);
      } while (this.eat(","));
    } else if (!this.is(";")) this.expr(false, true);
    if (this.eat("of") || this.eat("in")) {
      this.expr(false);
    } else {
      this.expect(";");
      if (!this.is(";")) this.expr(false);
      this.expect(";");
      if (!this.is(")")) this.expr(false);
    }
    this.expect(")");
    this.statement(false);
  }

  /** A binding name or pattern (patterns are parsed as the literals they look like). */
  private binding(): string {
    const tok = this.tok;
    if (tok.k === "id") {
      this.i++;
      return tok.v;
    }
    if (tok.v === "{" || tok.v === "[") {
      this.primary();
      return "";
    }
    return this.unexpected();
  }

  private importDecl(top: boolean): void {
    const s = this.tok.s;
    this.i++;
    if (this.is("type") && (this.peek().k === "id" ? this.peek().v !== "from" : true) && !this.is(",", 1)) {
      // import type ... : types only.
      this.skipImportClause();
      this.semi();
      this.cutStatement(s, this.prevEnd());
      if (top) this.keepVerbatim(s, false, [], false, true);
      return;
    }
    if (this.tok.k === "id" && this.peek().v === "=") this.fail("`import x = ...` (not erasable)", s);
    const names = this.skipImportClause(true);
    this.semi();
    if (top) this.keepVerbatim(s, false, names, true, true);
  }

  /** The clause and module specifier of an import; cuts `type` specifiers when `cutTypes`. */
  private skipImportClause(cutTypes = false): string[] {
    const names: string[] = [];
    if (this.tok.k === "str") {
      this.moduleSpecifier();
    } else {
      if (this.is("type")) this.i++;
      if (this.tok.k === "id" && !this.is("from")) {
        names.push(this.tok.v);
        this.i++;
        this.eat(",");
      }
      if (this.eat("*")) {
        this.expect("as");
        names.push(this.tok.v);
        this.i++;
      } else if (this.is("{")) this.specifiers(cutTypes, names);
      this.expect("from");
      this.moduleSpecifier();
    }
    if ((this.is("with") || this.is("assert")) && !this.tok.nl) {
      this.i++;
      this.i = this.tok.m + 1;
    }
    return names;
  }

  /** `{ a, type b, c as d }`: cuts the `type` ones from the JS when `cutTypes`. */
  private specifiers(cutTypes: boolean, names: string[]): void {
    const open = this.expect("{");
    const close = open.m;
    const specs: { s: number; e: number; type: boolean }[] = [];
    while (this.i < close) {
      const s = this.tok.s;
      let type = false;
      if (this.is("type") && this.peek().k !== "punc" && !this.is("as", 1)) {
        type = true;
        this.i++;
      }
      this.i++;
      let local = this.t[this.i - 1]!.v;
      if (this.eat("as")) {
        local = this.tok.v;
        this.i++;
      }
      if (!type) names.push(local);
      specs.push({ s, e: this.prevEnd(), type });
      if (!this.eat(",") && this.i < close) this.unexpected();
    }
    this.i = close + 1;
    if (!cutTypes) return;
    for (let n = 0; n < specs.length; n++) {
      const sp = specs[n]!;
      if (!sp.type) continue;
      const next = specs[n + 1];
      this.cut(sp.s, next !== undefined ? next.s : this.t[close]!.s);
    }
  }

  private keepVerbatim(s: number, exported: boolean, names: string[], semi = false, always = false): void {
    const e = this.prevEnd();
    const text = this.withSpecifiers(s, e);
    const doc = this.doc(s, "");
    this.decls.push({
      names,
      exported,
      always,
      render: () => `${doc}${text}${semi && !text.endsWith(";") ? ";" : ""}`,
    });
  }

  private exportDecl(top: boolean): void {
    const s = this.tok.s;
    this.i++;
    const tok = this.tok;
    if (tok.v === "type" && tok.k === "id") {
      if (this.is("{", 1) || this.is("*", 1)) {
        // export type { ... } [from ...]
        this.i++;
        if (this.eat("*")) {
          if (this.eat("as")) this.i++;
        } else this.i = this.tok.m + 1;
        if (this.eat("from")) this.moduleSpecifier();
        this.semi();
        this.cutStatement(s, this.prevEnd());
        if (top) this.keepVerbatim(s, true, [], false, true);
        return;
      }
      this.typeAlias(top, true, s);
      return;
    }
    if (tok.v === "interface") {
      this.interfaceDecl(top, true, s);
      return;
    }
    if (tok.v === "declare") {
      this.declareStatement(top, true, s);
      return;
    }
    if (tok.v === "enum" || (tok.v === "const" && this.is("enum", 1))) this.fail("an enum (not erasable)", s);
    if (tok.v === "namespace" || tok.v === "module") this.fail(`an exported ${tok.v} (not erasable)`, s);
    if (tok.v === "import") this.fail("`export import` (not erasable)", s);
    if (tok.v === "=") this.fail("`export =` (not erasable)", s);
    if (tok.v === "default") {
      this.i++;
      if (this.is("class")) {
        this.classDecl(top, true, s, false, true);
        return;
      }
      if (this.is("function") || (this.is("async") && this.is("function", 1))) {
        this.functionDecl(top, true, s, true);
        return;
      }
      this.fail("`export default` of an expression (its type cannot be stated without a type checker)", s);
    }
    if (tok.v === "abstract" && this.is("class", 1)) {
      this.cutWord(this.i);
      this.i++;
      this.classDecl(top, true, s, true);
      return;
    }
    if (tok.v === "class") {
      this.classDecl(top, true, s, false);
      return;
    }
    if (tok.v === "function" || (tok.v === "async" && this.is("function", 1))) {
      this.functionDecl(top, true, s);
      return;
    }
    if (tok.v === "const" || tok.v === "let" || tok.v === "var") {
      this.varStatement(top, true, s);
      return;
    }
    if (tok.v === "{" || tok.v === "*") {
      const names: string[] = [];
      if (this.eat("*")) {
        if (this.eat("as")) this.i++;
      } else this.specifiers(true, names);
      if (this.eat("from")) this.moduleSpecifier();
      if ((this.is("with") || this.is("assert")) && !this.tok.nl) {
        this.i++;
        this.i = this.tok.m + 1;
      }
      this.semi();
      if (top) this.keepVerbatim(s, true, [], true, true);
      return;
    }
    this.unexpected();
  }

  /** declare ...: removed from the JS, kept as written in the declarations. */
  private declareStatement(top: boolean, exported: boolean, s: number): void {
    this.expect("declare");
    const kw = this.tok;
    const nameTok = this.peek();
    this.i++;
    switch (kw.v) {
      case "namespace":
      case "module":
      case "global":
      case "class":
      case "enum":
      case "abstract":
      case "interface":
        while (!this.is("{")) {
          if (this.tok.k === "eof") this.unexpected();
          this.i++;
        }
        this.i = this.tok.m + 1;
        break;
      case "const":
      case "let":
      case "var":
        do {
          this.i++;
          this.annotation();
        } while (this.eat(","));
        this.semi();
        break;
      case "function":
        this.eat("*");
        this.i++;
        this.typeParams();
        this.i = this.tok.m + 1;
        this.annotation(true);
        this.semi();
        break;
      case "type":
        this.i--;
        this.typeAliasBody();
        break;
      default:
        this.fail(`\`declare ${kw.v}\``, kw.s);
    }
    this.cutStatement(s, this.prevEnd());
    if (top) this.keepVerbatim(s, exported, [nameTok.v]);
  }

  private typeAliasBody(): void {
    this.expect("type");
    this.i++;
    if (this.is("<")) this.i = this.typeParamsEnd(this.i);
    this.expect("=");
    this.i = this.typeEnd(this.i);
    this.semi();
  }

  private typeAlias(top: boolean, exported: boolean, s: number): void {
    const name = this.peek().v;
    this.typeAliasBody();
    this.cutStatement(s, this.prevEnd());
    if (top) this.keepVerbatim(s, exported, [name]);
  }

  private interfaceDecl(top: boolean, exported: boolean, s: number): void {
    this.expect("interface");
    const name = this.tok.v;
    this.i++;
    if (this.is("<")) this.i = this.typeParamsEnd(this.i);
    if (this.eat("extends")) {
      do this.i = this.typeEnd(this.i);
      while (this.eat(","));
    }
    if (!this.is("{")) this.unexpected();
    this.i = this.tok.m + 1;
    this.cutStatement(s, this.prevEnd());
    if (top) this.keepVerbatim(s, exported, [name]);
  }

  private varStatement(top: boolean, exported: boolean, s: number): void {
    const kindTok = this.tok;
    this.i++;
    const decls: { name: string; type: string; value: Value | undefined; at: number }[] = [];
    do {
      const at = this.tok.s;
      const name = this.binding();
      if (this.is("!")) {
        this.cut(this.tok.s, this.tok.e);
        this.i++;
      }
      const type = this.annotation();
      let value: Value | undefined;
      if (this.eat("=")) value = this.expr(true);
      decls.push({ name, type, value, at });
    } while (this.eat(","));
    this.semi();
    if (!top) return;
    for (const d of decls)
      if (kindTok.v === "const" && d.type === "" && d.value?.kind === "literal")
        this.literalConsts.set(d.name, d.value);
    const doc = this.doc(s, "");
    const keyword = kindTok.v === "using" || kindTok.v === "await" ? "const" : kindTok.v;
    for (const d of decls) {
      if (d.name === "") this.fail("a destructuring declaration at the top level", d.at);
      this.decls.push({
        names: [d.name],
        exported,
        render: () => {
          let type = d.type;
          let init = "";
          if (type === "") {
            if (d.value === undefined) this.fail(`\`${d.name}\` has neither a type nor an initialiser`, d.at);
            const v = d.value;
            if (
              keyword === "const" &&
              v.kind === "literal" &&
              v.lit !== undefined &&
              v.text !== "null" &&
              v.text !== "undefined"
            )
              init = ` = ${v.lit}`;
            else if (keyword === "const" && v.kind === "symbol") type = "unique symbol";
            else type = this.typeOf(v, false, "");
          }
          return `${doc}${exported ? "export " : ""}declare ${keyword} ${d.name}${init || `: ${type}`};`;
        },
      });
    }
  }

  /** Parameters `( ... )` at the cursor, annotations cut. */
  private params(ctorOf?: string): Param[] {
    const open = this.expect("(");
    const params: Param[] = [];
    while (!this.is(")")) {
      const s = this.tok.s;
      if (
        this.tok.k === "id" &&
        MODIFIERS.has(this.tok.v) &&
        (this.peek().k === "id" || this.peek().v === "{" || this.peek().v === "[")
      )
        this.fail(
          ctorOf !== undefined
            ? `the parameter property \`${this.tok.v} ${this.peek().v}\` (not erasable)`
            : `a modifier on a parameter`,
          s,
        );
      if (this.is("@")) this.fail("a parameter decorator (not erasable)", s);
      const rest = this.eat("...");
      if (this.is("this") && (this.is(":", 1) || this.is(",", 1) || this.is(")", 1))) {
        // `this` parameter: erased entirely.
        this.i++;
        const type = this.annotation();
        const end = this.is(",") ? this.t[this.i + 1]!.s : this.prevEnd();
        this.eat(",");
        this.cut(s, end);
        params.push({ text: `this: ${type}` });
        continue;
      }
      const bs = this.tok.s;
      this.binding();
      const name = this.text(bs, this.prevEnd());
      let optional = false;
      if (this.is("?")) {
        optional = true;
        this.cut(this.tok.s, this.tok.e);
        this.i++;
      }
      const type = this.annotation();
      if (this.eat("=")) {
        this.expr(true);
        optional = true;
      }
      params.push({
        text: `${rest ? "..." : ""}${name}${optional && !rest ? "?" : ""}${type === "" ? "" : `: ${type}`}`,
      });
      if (!this.eat(",")) break;
    }
    if (this.tok !== this.t[open.m]) this.unexpected();
    this.i++;
    return params;
  }

  private signature(ctorOf?: string): Signature {
    const typeParams = this.typeParams();
    const params = this.params(ctorOf);
    const ret = this.annotation(true);
    return { typeParams, params, ret };
  }

  private sigText(sig: Signature, what: string, at: number, needRet: boolean, arrow = false): string {
    for (const p of sig.params)
      if (!p.text.includes(":") && !p.text.startsWith("this"))
        this.fail(`the parameter \`${p.text}\` of ${what} has no type`, at);
    if (needRet && sig.ret === "") this.fail(`${what} has no return type`, at);
    const params = `${sig.typeParams}(${sig.params.map((p) => p.text).join(", ")})`;
    if (!needRet) return params;
    return arrow ? `${params} => ${sig.ret}` : `${params}: ${sig.ret}`;
  }

  private functionDecl(top: boolean, exported: boolean, s: number, isDefault = false): void {
    const async = this.eat("async");
    this.expect("function");
    const gen = this.eat("*");
    const nameTok = this.tok;
    const name = nameTok.k === "id" && !this.is("(") && !this.is("<") ? nameTok.v : "default";
    if (name !== "default" || !isDefault) this.i++;
    const sig = this.signature();
    let overload = false;
    if (this.is("{")) this.functionBody();
    else {
      overload = true;
      this.semi();
      this.cutStatement(s, this.prevEnd());
    }
    if (!top) return;
    const doc = this.doc(s, "");
    const prev = this.decls.at(-1) as (TopDecl & { overload?: boolean }) | undefined;
    const isImplOfOverloads = !overload && prev?.overload === true && prev.names[0] === name;
    if (isImplOfOverloads) return;
    const decl: TopDecl & { overload?: boolean } = {
      names: [name],
      exported,
      overload,
      render: () =>
        `${doc}${exported ? (isDefault ? "export default " : "export ") : ""}declare function ${gen ? "" : ""}${name}${this.sigText(
          sig,
          `function ${name}`,
          nameTok.s,
          !async || sig.ret !== "",
        )};`,
    };
    this.decls.push(decl);
  }

  private functionBody(): void {
    this.block();
  }

  // --- classes

  private classDecl(top: boolean, exported: boolean, s: number, abstract: boolean, isDefault = false): void {
    this.expect("class");
    let name = "default";
    if (this.tok.k === "id" && !this.is("extends") && !this.is("implements")) {
      name = this.tok.v;
      this.i++;
    }
    const typeParams = this.typeParams();
    let heritage = "";
    if (this.eat("extends")) {
      const hs = this.tok.s;
      // An entity name, optionally with type arguments (cut from the JS).
      const e = this.lhsExpr();
      if (e.kind !== "ident" && !/^[\w$.]+$/.test(this.text(hs, e.e)))
        this.fail("a class extending an expression that is not a name", hs);
      heritage = ` extends ${this.text(hs, this.prevEnd())}`;
    }
    if (this.is("implements")) {
      const is = this.tok.s;
      this.i++;
      do this.i = this.typeEnd(this.i);
      while (this.eat(","));
      heritage += ` ${this.text(is, this.prevEnd())}`;
      this.cut(this.cutStartBefore(is), this.prevEnd());
    }
    const members = this.classBody();
    if (!top) return;
    const doc = this.doc(s, "");
    this.decls.push({
      names: [name],
      exported,
      render: () => {
        const body: string[] = [];
        for (let n = 0; n < members.length; n++) {
          const m = members[n]!;
          const prev = members[n - 1];
          if (m.implementation && prev?.overload === true && prev.name === m.name) continue;
          body.push(m.render("    "));
        }
        return (
          `${doc}${exported ? (isDefault ? "export default " : "export ") : ""}declare ${abstract ? "abstract " : ""}class ${name === "default" ? "_default" : name}${typeParams}${heritage} {\n` +
          body.join("") +
          "}"
        );
      },
    });
  }

  private classBody(): ClassMember[] {
    const open = this.expect("{");
    const members: ClassMember[] = [];
    let hasPrivateNames = false;
    while (this.i < open.m) {
      if (this.eat(";")) continue;
      const s = this.tok.s;
      if (this.is("@")) this.fail("a decorator (not erasable)", s);
      if (this.is("static") && this.is("{", 1)) {
        // static block: code only.
        this.i++;
        this.block();
        continue;
      }
      // Modifiers (a modifier word followed by a name is a modifier; otherwise it is the name).
      const mods: string[] = [];
      let declare = false;
      let abstractMember = false;
      while (
        this.tok.k === "id" &&
        MODIFIERS.has(this.tok.v) &&
        this.startsName(this.peek()) &&
        !this.peek().nl
      ) {
        const m = this.tok.v;
        if (m === "accessor") this.fail("an `accessor` field", s);
        if (m === "declare") declare = true;
        if (m === "abstract") abstractMember = true;
        if (ERASED_MODIFIERS.has(m)) this.cutWord(this.i);
        mods.push(m);
        this.i++;
      }
      let accessor = "";
      if ((this.is("get") || this.is("set")) && this.startsName(this.peek()) && !this.peek().nl) {
        accessor = this.tok.v;
        this.i++;
      }
      const star = this.eat("*");
      // Index signature `[key: T]: U;`
      if (this.is("[") && this.peek().k === "id" && this.is(":", 2)) {
        this.i = this.tok.m + 1;
        this.annotation();
        this.semi();
        this.cutStatement(s, this.prevEnd());
        const text = this.text(s, this.prevEnd());
        members.push({
          render: (ind) => `${ind}${text.replace(/;?$/, ";")}\n`,
          name: "",
          overload: false,
          implementation: false,
        });
        continue;
      }
      const nameTok = this.tok;
      const name = this.propertyName();
      if (nameTok.k === "priv") hasPrivateNames = true;
      const doc = this.doc(s, "    ");
      const dtsMods = mods.filter(
        (m) => m === "static" || m === "protected" || m === "private" || m === "readonly" || m === "abstract",
      );
      const modText = dtsMods.length > 0 ? `${dtsMods.join(" ")} ` : "";
      let optional = "";
      if (this.is("?") || this.is("!")) {
        if (this.is("?")) optional = "?";
        this.cut(this.tok.s, this.tok.e);
        this.i++;
      }
      if (this.is("(") || this.is("<")) {
        // method / constructor / accessor
        const sig = this.signature(name === "constructor" ? name : undefined);
        const isPrivate = mods.includes("private");
        if (this.is("{")) {
          if (abstractMember) this.fail("an abstract method with a body", s);
          this.functionBody();
        } else {
          this.semi();
          this.cutStatement(s, this.prevEnd());
        }
        const overload = !this.t[this.i - 1] || this.t[this.i - 1]!.v !== "}";
        if (nameTok.k === "priv") continue;
        const what = `${name}`;
        members.push({
          name,
          overload: overload && !abstractMember,
          implementation: !overload,
          render: (ind) => {
            if (isPrivate)
              return `${doc}${ind}${modText}${accessor ? `${accessor} ` : ""}${name}${optional};\n`;
            if (name === "constructor")
              return `${doc}${ind}constructor${this.sigText(sig, "the constructor", nameTok.s, false)};\n`;
            if (accessor === "set")
              return `${doc}${ind}${modText}set ${name}${this.sigText(sig, `the setter ${what}`, nameTok.s, false)};\n`;
            const prefix = accessor === "get" ? "get " : star ? "" : "";
            return `${doc}${ind}${modText}${prefix}${name}${optional}${this.sigText(sig, `the method ${what}`, nameTok.s, true)};\n`;
          },
        });
        continue;
      }
      // property
      const type = this.annotation();
      let value: Value | undefined;
      if (this.eat("=")) value = this.expr(true);
      this.semi();
      if (declare) this.cutStatement(s, this.prevEnd());
      if (abstractMember) this.cutStatement(s, this.prevEnd());
      if (nameTok.k === "priv") continue;
      const isPrivate = mods.includes("private");
      const readonly = mods.includes("readonly");
      members.push({
        name,
        overload: false,
        implementation: false,
        render: (ind) => {
          if (isPrivate) return `${doc}${ind}${modText}${name}${optional};\n`;
          if (type !== "") return `${doc}${ind}${modText}${name}${optional}: ${type};\n`;
          if (value === undefined)
            this.fail(`the property \`${name}\` has neither a type nor an initialiser`, nameTok.s);
          if (
            readonly &&
            value.kind === "literal" &&
            value.lit !== undefined &&
            value.text !== "null" &&
            value.text !== "undefined"
          )
            return `${doc}${ind}${modText}${name}${optional} = ${value.lit};\n`;
          return `${doc}${ind}${modText}${name}${optional}: ${this.typeOf(value, false, ind)};\n`;
        },
      });
    }
    this.i = open.m + 1;
    if (hasPrivateNames)
      members.unshift({
        render: (ind) => `${ind}#private;\n`,
        name: "",
        overload: false,
        implementation: false,
      });
    return members;
  }

  private startsName(tok: Token): boolean {
    return (
      tok.k === "id" ||
      tok.k === "str" ||
      tok.k === "num" ||
      tok.k === "priv" ||
      tok.v === "[" ||
      tok.v === "*"
    );
  }

  /** A property name (identifier, string, number, #private or [computed]); returns its text. */
  private propertyName(): string {
    const tok = this.tok;
    if (tok.k === "id" || tok.k === "str" || tok.k === "num" || tok.k === "priv") {
      this.i++;
      return this.text(tok.s, tok.e);
    }
    if (tok.v === "[") {
      this.i++;
      this.expr(false);
      this.expect("]");
      return this.text(tok.s, this.prevEnd());
    }
    return this.unexpected();
  }

  // --- expressions (precedence does not matter for erasure: operators are read in sequence)

  /** An expression; `noComma` stops at a top-level comma, `noIn` at `in` (for-in heads). */
  private expr(noComma: boolean, noIn = false): Value {
    let v = this.unary();
    while (true) {
      const tok = this.tok;
      if (tok.k === "id" && (tok.v === "as" || tok.v === "satisfies") && !tok.nl) {
        this.i++;
        const cutFrom = this.cutStartBefore(tok.s);
        if (tok.v === "as" && this.is("const") && !this.is(".", 1)) {
          this.i++;
          this.cut(cutFrom, this.prevEnd());
          v = { ...v, asConst: true, e: this.prevEnd() };
          continue;
        }
        const type = this.type();
        this.cut(cutFrom, this.prevEnd());
        v =
          tok.v === "as"
            ? { kind: "typed", s: v.s, e: this.prevEnd(), text: type }
            : { ...v, e: this.prevEnd() };
        continue;
      }
      if (tok.k === "punc" && tok.v === "?") {
        this.i++;
        this.expr(true);
        this.expect(":");
        this.expr(true, noIn);
        v = { kind: "other", s: v.s, e: this.prevEnd() };
        continue;
      }
      if (tok.k === "punc" && tok.v === ">") {
        // > >= >> >>= >>> >>>= : the pieces are adjacent tokens.
        this.i++;
        while ((this.is(">") || this.is("=") || this.is(">=")) && this.tok.s === this.prevEnd()) this.i++;
        this.unary();
        v = { kind: "other", s: v.s, e: this.prevEnd() };
        continue;
      }
      if (
        (tok.k === "punc" && BINARY.has(tok.v) && !(noComma && tok.v === ",")) ||
        (tok.k === "id" && (tok.v === "instanceof" || (tok.v === "in" && !noIn)))
      ) {
        this.i++;
        if (tok.v === "," && (this.is(")") || this.is("]"))) return v;
        this.unary();
        v = { kind: "other", s: v.s, e: this.prevEnd() };
        continue;
      }
      if (tok.v === "=>" && tok.k === "punc") this.unexpected();
      return v;
    }
  }

  private unary(): Value {
    const tok = this.tok;
    if ((tok.k === "punc" || tok.k === "id") && PREFIX.has(tok.v)) {
      if (
        tok.k === "id" &&
        this.peek().k === "punc" &&
        [")", "]", "}", ",", ";", ":", "=", "."].includes(this.peek().v)
      ) {
        // `await`/`void`/... used as a name
      } else {
        this.i++;
        const inner = this.unary();
        if (tok.v === "-" && inner.kind === "literal" && (inner.text === "number" || inner.text === "bigint"))
          return { ...inner, s: tok.s, lit: `-${inner.lit}` };
        return { kind: "other", s: tok.s, e: this.prevEnd() };
      }
    }
    if (tok.k === "id" && tok.v === "yield") {
      this.i++;
      this.eat("*");
      if (
        !this.tok.nl &&
        !this.is(")") &&
        !this.is("]") &&
        !this.is("}") &&
        !this.is(",") &&
        !this.is(";") &&
        !this.is(":")
      )
        this.expr(true);
      return { kind: "other", s: tok.s, e: this.prevEnd() };
    }
    if (tok.k === "punc" && tok.v === "<") {
      // generic arrow `<T>(x: T) => ...`, otherwise a `<T>x` assertion.
      const j = this.typeParamsEndOrNeg(this.i);
      if (j > 0 && this.t[j]!.v === "(" && this.isArrowAfter(this.t[j]!.m)) return this.arrow(false);
      this.fail("a `<T>value` type assertion (use `value as T`)", tok.s);
    }
    return this.postfix(this.primary());
  }

  private typeParamsEndOrNeg(k: number): number {
    try {
      return this.typeParamsEnd(k);
    } catch (e) {
      if (e instanceof StripTypesError) return -1;
      throw e;
    }
  }

  /** Is `)` at index `close` followed by `=>`, or by `: ReturnType =>`? */
  private isArrowAfter(close: number): boolean {
    const after = this.t[close + 1]!;
    if (after.v === "=>" && !after.nl) return true;
    if (after.v !== ":" || after.k !== "punc") return false;
    try {
      const j = this.returnTypeEnd(close + 2);
      return this.t[j]!.v === "=>";
    } catch (e) {
      if (e instanceof StripTypesError) return false;
      throw e;
    }
  }

  /** An arrow function at the cursor (`(`, `<` or a parameter name; after `async`). */
  private arrow(async: boolean): Value {
    const s = this.tok.s;
    let sig: Signature;
    if (this.tok.k === "id") {
      const p = this.tok.v;
      this.i++;
      sig = { typeParams: "", params: [{ text: p }], ret: "" };
    } else sig = this.signature();
    this.expect("=>");
    if (this.is("{")) this.functionBody();
    else this.expr(true);
    const needRet = !async;
    let text: string | undefined;
    try {
      text = this.sigText(sig, "an arrow function", s, needRet, true);
    } catch {
      text = undefined;
    }
    return {
      kind: text === undefined ? "other" : "fn",
      s,
      e: this.prevEnd(),
      ...(text === undefined ? {} : { sig: text }),
    };
  }

  private primary(): Value {
    const tok = this.tok;
    const s = tok.s;
    switch (tok.k) {
      case "num":
        this.i++;
        return { kind: "literal", s, e: tok.e, text: tok.v.endsWith("n") ? "bigint" : "number", lit: tok.v };
      case "str":
        this.i++;
        return { kind: "literal", s, e: tok.e, text: "string", lit: tok.v };
      case "tmpl":
        this.i++;
        return { kind: "literal", s, e: tok.e, text: "string", lit: JSON.stringify(tok.v.slice(1, -1)) };
      case "head": {
        this.i++;
        while (true) {
          this.expr(false);
          if (this.tok.k === "mid") this.i++;
          else if (this.tok.k === "tail") {
            this.i++;
            break;
          } else this.unexpected();
        }
        return { kind: "typed", s, e: this.prevEnd(), text: "string" };
      }
      case "regex":
        this.i++;
        return { kind: "typed", s, e: tok.e, text: "RegExp" };
      case "priv":
        this.i++;
        return { kind: "other", s, e: tok.e };
      case "punc":
        if (tok.v === "(") {
          if (this.isArrowAfter(tok.m)) return this.arrow(false);
          this.i++;
          const inner = this.expr(false);
          this.expect(")");
          return inner.kind === "typed"
            ? { ...inner, s, e: this.prevEnd() }
            : { kind: "other", s, e: this.prevEnd() };
        }
        if (tok.v === "[") return this.arrayLiteral();
        if (tok.v === "{") return this.objectLiteral();
        if (tok.v === "@") this.fail("a decorator (not erasable)", s);
        return this.unexpected();
      case "id":
        break;
      default:
        return this.unexpected();
    }
    const next = this.peek();
    if (tok.v === "async" && !next.nl) {
      if (next.v === "function") {
        this.i++;
        return this.functionExpr();
      }
      if (next.k === "id" && this.is("=>", 2)) {
        this.i++;
        return this.arrow(true);
      }
      if ((next.v === "(" && this.isArrowAfter(next.m)) || next.v === "<") {
        this.i++;
        return this.arrow(true);
      }
    }
    if (next.v === "=>" && !next.nl && next.k === "punc") return this.arrow(false);
    switch (tok.v) {
      case "function":
        return this.functionExpr();
      case "class": {
        this.i++;
        if (this.tok.k === "id" && !this.is("extends") && !this.is("implements") && !this.is("{")) this.i++;
        this.typeParams();
        if (this.eat("extends")) this.lhsExpr();
        if (this.is("implements")) {
          const is = this.tok.s;
          this.i++;
          do this.i = this.typeEnd(this.i);
          while (this.eat(","));
          this.cut(this.cutStartBefore(is), this.prevEnd());
        }
        this.classBody();
        return { kind: "other", s, e: this.prevEnd() };
      }
      case "new": {
        this.i++;
        if (this.eat(".")) {
          this.i++;
          return { kind: "other", s, e: this.prevEnd() };
        }
        const callee = this.memberOnly(this.primary());
        let typeArgs = "";
        if (this.is("<")) {
          const j = this.typeArgsEndOrNeg(this.i);
          if (j > 0) {
            typeArgs = this.text(this.tok.s, this.t[j - 1]!.e);
            this.cut(this.tok.s, this.t[j - 1]!.e);
            this.i = j;
          }
        }
        if (this.is("(")) this.args();
        const name = this.text(callee.s, callee.e);
        return /^[\w$.]+$/.test(name)
          ? { kind: "typed", s, e: this.prevEnd(), text: name + typeArgs }
          : { kind: "other", s, e: this.prevEnd() };
      }
      case "true":
      case "false":
        this.i++;
        return { kind: "literal", s, e: tok.e, text: "boolean", lit: tok.v };
      case "null":
        this.i++;
        return { kind: "literal", s, e: tok.e, text: "null", lit: "null" };
      case "undefined":
        this.i++;
        return { kind: "literal", s, e: tok.e, text: "undefined", lit: "undefined" };
      case "Symbol": {
        this.i++;
        const v = this.postfix({ kind: "ident", s, e: tok.e, lit: "Symbol" });
        const text = this.text(s, v.e);
        return /^Symbol(\.for)?\([^()]*\)$/.test(text) ? { kind: "symbol", s, e: v.e } : v;
      }
    }
    this.i++;
    return { kind: "ident", s, e: tok.e, lit: tok.v };
  }

  private functionExpr(): Value {
    const s = this.tok.s;
    this.expect("function");
    this.eat("*");
    if (this.tok.k === "id") this.i++;
    const sig = this.signature();
    this.functionBody();
    let text: string | undefined;
    try {
      text = this.sigText(sig, "a function", s, true, true);
    } catch {
      text = undefined;
    }
    return {
      kind: text === undefined ? "other" : "fn",
      s,
      e: this.prevEnd(),
      ...(text === undefined ? {} : { sig: text }),
    };
  }

  private typeArgsEndOrNeg(k: number): number {
    try {
      return this.typeArgsEnd(k);
    } catch (e) {
      if (e instanceof StripTypesError) return -1;
      throw e;
    }
  }

  /** Member accesses only (no calls): the callee of `new`, a class heritage. */
  private memberOnly(v: Value): Value {
    let e = v.e;
    while (true) {
      if (this.is(".") && (this.peek().k === "id" || this.peek().k === "priv")) {
        this.i += 2;
        e = this.prevEnd();
      } else if (this.is("[") && !this.tok.nl) {
        this.i = this.tok.m + 1;
        e = this.prevEnd();
      } else break;
    }
    return e === v.e ? v : { kind: "other", s: v.s, e };
  }

  /** The expression after `extends`: a member expression with optional type arguments (cut). */
  private lhsExpr(): Value {
    const v = this.memberOnly(this.primary());
    if (this.is("<")) {
      const j = this.typeArgsEnd(this.i);
      this.cut(this.tok.s, this.t[j - 1]!.e);
      this.i = j;
    }
    if (this.is("(")) {
      this.args();
      return { kind: "other", s: v.s, e: this.prevEnd() };
    }
    return v;
  }

  private args(): void {
    this.expect("(");
    while (!this.is(")")) {
      this.eat("...");
      this.expr(true);
      if (!this.eat(",")) break;
    }
    this.expect(")");
  }

  private postfix(v: Value): Value {
    let cur = v;
    while (true) {
      const tok = this.tok;
      if (tok.k === "punc") {
        if (tok.v === "." || tok.v === "?.") {
          this.i++;
          if (this.tok.k === "id" || this.tok.k === "priv") this.i++;
          else if (tok.v === "?." && (this.is("(") || this.is("["))) continue;
          else if (tok.v === "?." && this.is("<")) continue;
          else this.unexpected();
        } else if (tok.v === "[") {
          this.i++;
          this.expr(false);
          this.expect("]");
        } else if (tok.v === "(") {
          this.args();
        } else if (tok.v === "!" && !tok.nl) {
          this.cut(tok.s, tok.e);
          this.i++;
        } else if ((tok.v === "++" || tok.v === "--") && !tok.nl) {
          this.i++;
        } else if (tok.v === "<") {
          // f<T>(...) / f<T>`...`: type arguments, when they parse and a call follows.
          const j = this.typeArgsEndOrNeg(this.i);
          if (j < 0) return cur;
          const after = this.t[j]!;
          if (!(after.v === "(" || after.k === "tmpl" || after.k === "head")) return cur;
          this.cut(tok.s, this.t[j - 1]!.e);
          this.i = j;
          continue;
        } else return cur;
      } else if (tok.k === "tmpl" || tok.k === "head") {
        this.primary();
      } else return cur;
      cur =
        cur.kind === "symbol"
          ? { ...cur, e: this.prevEnd() }
          : { kind: "other", s: cur.s, e: this.prevEnd() };
      if (v.kind === "ident" && v.lit === "Symbol")
        cur = { kind: "ident", s: v.s, e: this.prevEnd(), lit: "Symbol" };
    }
  }

  private arrayLiteral(): Value {
    const open = this.expect("[");
    const elements: Value[] = [];
    while (this.i < open.m) {
      if (this.eat(",")) {
        elements.push({ kind: "other", s: this.tok.s, e: this.tok.s });
        continue;
      }
      const spread = this.eat("...");
      const v = this.expr(true);
      elements.push(spread ? { kind: "other", s: v.s, e: v.e } : v);
      if (!this.eat(",") && this.i < open.m) this.unexpected();
    }
    this.i = open.m + 1;
    return { kind: "array", s: open.s, e: this.prevEnd(), elements };
  }

  private objectLiteral(): Value {
    const open = this.expect("{");
    const members: ObjMember[] = [];
    let ok = true;
    while (this.i < open.m) {
      const s = this.tok.s;
      if (this.eat("...")) {
        this.expr(true);
        ok = false;
      } else {
        let kind: ObjMember["kind"] = "prop";
        if ((this.is("get") || this.is("set") || this.is("async")) && this.startsName(this.peek())) {
          kind = this.is("async") ? "method" : (this.tok.v as "get" | "set");
          this.i++;
        }
        this.eat("*");
        const nameTok = this.tok;
        const name = this.propertyName();
        if (this.is("(") || this.is("<")) {
          const sig = this.signature();
          this.functionBody();
          if (kind === "prop") kind = "method";
          let text: string | undefined;
          try {
            text = this.sigText(sig, `the method ${name}`, nameTok.s, kind !== "set");
          } catch (e) {
            if (!(e instanceof StripTypesError)) throw e;
          }
          members.push({ kind, name, ...(text === undefined ? {} : { sig: text }), at: s });
        } else if (this.eat(":")) {
          members.push({ kind: "prop", name, value: this.expr(true), at: s });
        } else {
          // shorthand (or a pattern default `a = 1`)
          if (this.eat("=")) this.expr(true);
          members.push({
            kind: "prop",
            name,
            value: { kind: "ident", s: nameTok.s, e: nameTok.e, lit: name },
            at: s,
          });
        }
      }
      if (!this.eat(",") && this.i < open.m) this.unexpected();
    }
    this.i = open.m + 1;
    return ok
      ? { kind: "object", s: open.s, e: this.prevEnd(), members }
      : { kind: "other", s: open.s, e: this.prevEnd() };
  }

  // --- types of initialisers

  /** The declared type of `v` (`constCtx`: inside `as const`). Throws when it cannot be stated. */
  private typeOf(v: Value, constCtx: boolean, indent: string): string {
    const c = constCtx || v.asConst === true;
    switch (v.kind) {
      case "literal":
        if (c) return v.lit!;
        return v.text!;
      case "typed":
        return v.text!;
      case "ident": {
        if (v.lit === "undefined") return "undefined";
        // `{ a: K }` with `const K = 1`: the property is a number (a literal type widens).
        const lit = this.literalConsts.get(v.lit!);
        if (lit !== undefined && !c) return lit.text!;
        return `typeof ${v.lit}`;
      }
      case "fn":
        return v.sig!;
      case "symbol":
        return "symbol";
      case "array": {
        const els = v.elements!;
        if (c) return `readonly [${els.map((x) => this.typeOf(x, true, indent)).join(", ")}]`;
        if (els.length === 0) return "never[]";
        const types = [...new Set(els.map((x) => this.typeOf(x, false, indent)))];
        return types.length === 1 ? `${types[0]}[]` : `(${types.join(" | ")})[]`;
      }
      case "object": {
        const inner = `${indent}    `;
        const lines = v.members!.map((m) => {
          const ro = c ? "readonly " : "";
          const doc = this.doc(m.at, inner);
          if (m.kind === "prop") return `${doc}${inner}${ro}${m.name}: ${this.typeOf(m.value!, c, inner)};`;
          if (m.sig === undefined)
            this.fail(`the type of the ${m.kind === "method" ? "method" : "accessor"} ${m.name}`, v.s);
          return `${doc}${inner}${m.kind === "method" ? "" : `${m.kind} `}${m.name}${m.sig};`;
        });
        return lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent}}`;
      }
      default:
        return this.fail(
          `the type of \`${this.text(v.s, Math.min(v.e, v.s + 60)).replace(/\s+/g, " ")}\` (annotate the declaration)`,
          v.s,
        );
    }
  }

  // --- declarations file

  dts(): string {
    // Leading line comments of the file (the generator's header).
    let header = "";
    const first = this.t[0]!;
    for (const c of this.comments) {
      if (c.s >= first.s) break;
      if (!c.block) header += `${this.text(c.s, c.e)}\n`;
    }
    // Exported declarations, and the local ones they name (as tsc keeps them).
    const out = new Map<TopDecl, string>();
    const byName = new Map<string, TopDecl[]>();
    for (const d of this.decls) for (const n of d.names) byName.set(n, [...(byName.get(n) ?? []), d]);
    const queue: TopDecl[] = this.decls.filter((d) => d.exported || d.always === true);
    let local = false;
    while (queue.length > 0) {
      const d = queue.shift()!;
      if (out.has(d)) continue;
      const text = d.render();
      out.set(d, text);
      if (!d.exported && d.always !== true) local = true;
      for (const word of text.replace(/\/\*[\s\S]*?\*\//g, "").match(/[A-Za-z_$][\w$]*/g) ?? [])
        for (const dep of byName.get(word) ?? []) if (!out.has(dep)) queue.push(dep);
    }
    const body = this.decls.filter((d) => out.has(d)).map((d) => out.get(d)!);
    const hasExportList = this.decls.some((d) => d.exported && d.always === true);
    if (local && !hasExportList) body.push("export {};");
    return `${header}${body.join("\n")}\n`;
  }
}

/**
 * Strips the TypeScript from a generated module: returns its JavaScript and its declaration file.
 * Throws StripTypesError (with `file:line:col` and the construct) for syntax it cannot convert.
 */
export function stripTypes(source: string, fileName = "input.ts"): StrippedModule {
  const p = new Stripper(source, fileName);
  p.module();
  return { js: p.js(), dts: p.dts() };
}
