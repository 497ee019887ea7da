/**
 * The schema lexer (c++/src/capnp/compiler/lexer.c++): UTF-8 bytes → statements, each a token
 * sequence ending in `;` or a `{ ... }` block, with the doc comment capnp attaches to it.
 * Positions are byte offsets, as capnp reports them. Parenthesized and bracketed lists are
 * lexed as nested token sequences split at commas, as in capnp's lexer.
 */
import type { ErrorReporter } from "./errors.js";

export interface Located {
  readonly startByte: number;
  readonly endByte: number;
}

export type Token = Located &
  (
    | { readonly kind: "identifier"; readonly value: string }
    /** `bytes`: the string's bytes exactly (escapes like "\xff" make bytes that are not UTF-8). */
    | { readonly kind: "string"; readonly value: string; readonly bytes: Uint8Array }
    | { readonly kind: "binary"; readonly value: Uint8Array }
    | { readonly kind: "integer"; readonly value: bigint }
    | { readonly kind: "float"; readonly value: number }
    | { readonly kind: "operator"; readonly value: string }
    | { readonly kind: "parenList" | "bracketList"; readonly items: Token[][] }
  );

export interface Statement extends Located {
  readonly tokens: Token[];
  /** Undefined for a statement ending in `;`. */
  readonly block: Statement[] | undefined;
  readonly docComment: string | undefined;
}

/** Raised inside the lexer; turned into a "Parse error." at the furthest position reached. */
class LexFail extends Error {}

const OPERATOR_CHARS = new Set([..."!$%&*+-./:<=>?@^|~"].map((c) => c.charCodeAt(0)));
const decoder = new TextDecoder();

const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isSpace = (c: number) =>
  c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;

class Lexer {
  pos = 0;
  best = 0;
  constructor(
    readonly src: Uint8Array,
    readonly errors: ErrorReporter,
  ) {}

  private at(o = 0): number {
    return this.pos + o < this.src.length ? this.src[this.pos + o]! : -1;
  }
  private fail(): never {
    if (this.pos > this.best) this.best = this.pos;
    throw new LexFail();
  }

  /** Whitespace, UTF-8 BOMs and `#` comments (C++ `commentsAndWhitespace`). */
  skip(): void {
    for (;;) {
      const c = this.at();
      if (c >= 0 && isSpace(c)) this.pos++;
      else if (c === 0xef && this.at(1) === 0xbb && this.at(2) === 0xbf) this.pos += 3;
      else if (c === 0x23) {
        while (this.pos < this.src.length && this.src[this.pos] !== 0x0a) this.pos++;
        if (this.pos < this.src.length) this.pos++;
      } else return;
    }
  }

  /** C++ `docComment`: comment lines right after a `;`, `{` or `}`, with no blank line between. */
  docComment(): string | undefined {
    const save = this.pos;
    const lineSpace = () => {
      while (this.pos < this.src.length) {
        const c = this.src[this.pos]!;
        if (c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c) this.pos++;
        else break;
      }
    };
    lineSpace();
    if (this.at() === 0x0a) this.pos++;
    else if (this.at() === 0x0d) {
      this.pos++;
      if (this.at() === 0x0a) this.pos++;
    }
    const lines: string[] = [];
    for (;;) {
      const before = this.pos;
      lineSpace();
      if (this.at() !== 0x23) {
        this.pos = before;
        break;
      }
      this.pos++;
      if (this.at() === 0x20) this.pos++;
      const start = this.pos;
      while (this.pos < this.src.length && this.src[this.pos] !== 0x0a) this.pos++;
      lines.push(decoder.decode(this.src.subarray(start, this.pos)));
      if (this.pos < this.src.length) this.pos++;
    }
    if (lines.length === 0) {
      this.pos = save;
      return undefined;
    }
    return lines.map((l) => `${l}\n`).join("");
  }

  tokenSequence(): Token[] {
    const out: Token[] = [];
    this.skip();
    for (;;) {
      const t = this.token();
      if (t === undefined) return out;
      out.push(t);
      this.skip();
    }
  }

  /** Items of `( ... )` / `[ ... ]`: token sequences split at commas; a trailing comma is allowed. */
  list(close: number): Token[][] {
    const items: Token[][] = [this.tokenSequence()];
    while (this.at() === 0x2c) {
      this.pos++;
      items.push(this.tokenSequence());
    }
    if (this.at() !== close) this.fail();
    this.pos++;
    if (items.length === 1 && items[0]!.length === 0) return [];
    if (items.length > 1 && items[items.length - 1]!.length === 0) items.pop();
    return items;
  }

  token(): Token | undefined {
    const start = this.pos;
    const c = this.at();
    if (c < 0) return undefined;
    if (isAlpha(c)) {
      while (this.at() >= 0 && (isAlpha(this.at()) || isDigit(this.at()))) this.pos++;
      return {
        kind: "identifier",
        value: decoder.decode(this.src.subarray(start, this.pos)),
        startByte: start,
        endByte: this.pos,
      };
    }
    if (c === 0x22) {
      const bytes = this.stringBody();
      return { kind: "string", value: decoder.decode(bytes), bytes, startByte: start, endByte: this.pos };
    }
    if (c === 0x30 && (this.at(1) === 0x78 || this.at(1) === 0x58) && this.at(2) === 0x22) {
      this.pos += 3;
      const bytes: number[] = [];
      for (;;) {
        while (this.at() >= 0 && isSpace(this.at())) this.pos++;
        if (this.at() === 0x22) break;
        if (!isHex(this.at()) || !isHex(this.at(1))) this.fail();
        bytes.push(Number.parseInt(String.fromCharCode(this.at(), this.at(1)), 16));
        this.pos += 2;
      }
      this.pos++;
      return { kind: "binary", value: new Uint8Array(bytes), startByte: start, endByte: this.pos };
    }
    if (isDigit(c)) return this.number(start);
    if (OPERATOR_CHARS.has(c)) {
      while (this.at() >= 0 && OPERATOR_CHARS.has(this.at())) this.pos++;
      return {
        kind: "operator",
        value: decoder.decode(this.src.subarray(start, this.pos)),
        startByte: start,
        endByte: this.pos,
      };
    }
    if (c === 0x28 || c === 0x5b) {
      this.pos++;
      const items = this.list(c === 0x28 ? 0x29 : 0x5d);
      return { kind: c === 0x28 ? "parenList" : "bracketList", items, startByte: start, endByte: this.pos };
    }
    if (c === 0xff || c === 0xfe || c === 0) {
      this.errors.add(
        start,
        start + (c === 0 ? 1 : 2),
        "Non-UTF-8 input detected. Cap'n Proto schema files must be UTF-8 text.",
      );
      this.pos += c === 0 ? 1 : 2;
      return this.token();
    }
    return undefined;
  }

  /** kj::parse `integer` (decimal, 0x hex, 0 octal) or `number` (a float with `.` or exponent). */
  number(start: number): Token {
    const s = this.src;
    let p = this.pos;
    while (p < s.length && isDigit(s[p]!)) p++;
    let isFloat = false;
    if (s[p] === 0x2e && p + 1 < s.length && isDigit(s[p + 1]!)) {
      isFloat = true;
      p++;
      while (p < s.length && isDigit(s[p]!)) p++;
    }
    if (s[p] === 0x65 || s[p] === 0x45) {
      let q = p + 1;
      if (s[q] === 0x2b || s[q] === 0x2d) q++;
      if (q < s.length && isDigit(s[q]!)) {
        isFloat = true;
        p = q;
        while (p < s.length && isDigit(s[p]!)) p++;
      }
    }
    if (isFloat) {
      const text = decoder.decode(s.subarray(start, p));
      this.pos = p;
      return { kind: "float", value: Number.parseFloat(text), startByte: start, endByte: p };
    }
    let value: bigint;
    if (s[start] === 0x30 && (s[start + 1] === 0x78 || s[start + 1] === 0x58) && isHex(s[start + 2] ?? -1)) {
      p = start + 2;
      while (p < s.length && isHex(s[p]!)) p++;
      value = BigInt(`0x${decoder.decode(s.subarray(start + 2, p))}`);
    } else if (s[start] === 0x30) {
      p = start + 1;
      while (p < s.length && s[p]! >= 0x30 && s[p]! <= 0x37) p++;
      value = p === start + 1 ? 0n : BigInt(`0o${decoder.decode(s.subarray(start + 1, p))}`);
    } else {
      value = BigInt(decoder.decode(s.subarray(start, p)));
    }
    this.pos = p;
    if (value >= 1n << 64n) value &= (1n << 64n) - 1n;
    return { kind: "integer", value, startByte: start, endByte: p };
  }

  /** A double-quoted string with C escapes (kj::parse::doubleQuotedString), as its bytes. */
  stringBody(): Uint8Array {
    this.pos++;
    const bytes: number[] = [];
    for (;;) {
      const c = this.at();
      if (c < 0 || c === 0x0a) this.fail();
      this.pos++;
      if (c === 0x22) break;
      if (c !== 0x5c) {
        bytes.push(c);
        continue;
      }
      const e = this.at();
      this.pos++;
      const simple: Record<number, number> = {
        97: 7,
        98: 8,
        102: 12,
        110: 10,
        114: 13,
        116: 9,
        118: 11,
        39: 0x27,
        34: 0x22,
        92: 0x5c,
        63: 0x3f,
      };
      if (simple[e] !== undefined) bytes.push(simple[e]);
      else if (e === 0x78) {
        // kj::parse: "\x" takes exactly two hex digits (an error is where the digits stop).
        let v = 0;
        for (let i = 0; i < 2; i++) {
          if (!isHex(this.at())) this.fail();
          v = v * 16 + Number.parseInt(String.fromCharCode(this.src[this.pos++]!), 16);
        }
        bytes.push(v);
      } else if (e >= 0x30 && e <= 0x37) {
        let v = e - 0x30;
        for (let i = 0; i < 2 && this.at() >= 0x30 && this.at() <= 0x37; i++)
          v = v * 8 + (this.src[this.pos++]! - 0x30);
        bytes.push(v & 0xff);
      } else {
        // Not an escape: the error is at the character after the backslash.
        this.pos--;
        this.fail();
      }
    }
    return new Uint8Array(bytes);
  }

  statement(): Statement | undefined {
    const start = this.pos;
    const tokens = this.tokenSequence();
    const c = this.at();
    if (c === 0x3b) {
      this.pos++;
      const docComment = this.docComment();
      return { tokens, block: undefined, docComment, startByte: start, endByte: this.pos };
    }
    if (c === 0x7b) {
      this.pos++;
      const early = this.docComment();
      const block = this.statements();
      if (this.at() !== 0x7d) this.fail();
      this.pos++;
      const late = this.docComment();
      return { tokens, block, docComment: early ?? late, startByte: start, endByte: this.pos };
    }
    if (tokens.length === 0) {
      this.pos = start;
      return undefined;
    }
    this.fail();
  }

  statements(): Statement[] {
    const out: Statement[] = [];
    this.skip();
    for (;;) {
      const s = this.statement();
      if (s === undefined) return out;
      out.push(s);
      this.skip();
    }
  }
}

/** Lex a whole file; on a syntax error, reports "Parse error." where capnp does and returns []. */
export function lex(src: Uint8Array, errors: ErrorReporter): Statement[] {
  const l = new Lexer(src, errors);
  try {
    const out = l.statements();
    if (l.pos < src.length) l.best = Math.max(l.best, l.pos);
    else return out;
  } catch (e) {
    if (!(e instanceof LexFail)) throw e;
  }
  errors.add(l.best, l.best, "Parse error.");
  return [];
}
