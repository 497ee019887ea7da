/**
 * Text format input (what `capnp encode` reads): struct literals `(a = 1, b = "x")`, lists
 * `[1, 2]`, strings with C escapes, Data as `0x"0a 0b"`, numbers (decimal, hex, octal, floats,
 * `inf`, `nan`), enumerants and `void` as identifiers, `#` comments. Parsed into a small tree,
 * then written into a message by `encodeText` using the schema.
 */
/** Malformed text, or text that does not fit the schema. */
export class TextParseError extends Error {
  override name = "TextParseError";
}

export type TextValue =
  | {
      readonly kind: "struct";
      readonly fields: readonly { readonly name: string; readonly value: TextValue }[];
      readonly at: number;
    }
  | { readonly kind: "list"; readonly items: readonly TextValue[]; readonly at: number }
  | { readonly kind: "string"; readonly bytes: Uint8Array; readonly at: number }
  | { readonly kind: "data"; readonly bytes: Uint8Array; readonly at: number }
  | { readonly kind: "number"; readonly text: string; readonly at: number }
  | { readonly kind: "ident"; readonly name: string; readonly at: number };

const encoder = new TextEncoder();

export class TextParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  private fail(message: string, at = this.pos): never {
    throw new TextParseError(`${message} (at offset ${at})`);
  }

  private skip(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === " " || c === "\t" || c === "\n" || c === "\r") this.pos++;
      else if (c === "#") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else break;
    }
  }

  /** Where the parser is (a character offset into the text). */
  get offset(): number {
    return this.pos;
  }

  /** True when only whitespace and comments are left. */
  atEnd(): boolean {
    this.skip();
    return this.pos >= this.src.length;
  }

  private expect(c: string): void {
    this.skip();
    if (this.src[this.pos] !== c) this.fail(`expected "${c}"`);
    this.pos++;
  }

  private peek(): string {
    this.skip();
    return this.src[this.pos] ?? "";
  }

  value(): TextValue {
    const at = this.pos;
    const c = this.peek();
    if (c === "(") return this.struct();
    if (c === "[") return this.list();
    if (c === '"') return { kind: "string", bytes: this.stringBytes(), at };
    if (c === "0" && this.src[this.pos + 1] === "x" && this.src[this.pos + 2] === '"') {
      this.pos += 2;
      return { kind: "data", bytes: this.hexBytes(), at };
    }
    if (c === "-" || (c >= "0" && c <= "9")) return { kind: "number", text: this.number(), at };
    if (/[A-Za-z_]/.test(c)) {
      const name = this.ident();
      return { kind: "ident", name, at };
    }
    return this.fail(c === "" ? "unexpected end of input" : `unexpected "${c}"`);
  }

  struct(): TextValue & { kind: "struct" } {
    const at = this.pos;
    this.expect("(");
    const fields: { name: string; value: TextValue }[] = [];
    if (this.peek() !== ")") {
      for (;;) {
        const name = this.ident();
        this.expect("=");
        fields.push({ name, value: this.value() });
        if (this.peek() === ",") {
          this.pos++;
          continue;
        }
        break;
      }
    }
    this.expect(")");
    return { kind: "struct", fields, at };
  }

  private list(): TextValue {
    const at = this.pos;
    this.expect("[");
    const items: TextValue[] = [];
    if (this.peek() !== "]") {
      for (;;) {
        items.push(this.value());
        if (this.peek() === ",") {
          this.pos++;
          continue;
        }
        break;
      }
    }
    this.expect("]");
    return { kind: "list", items, at };
  }

  private ident(): string {
    this.skip();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos, this.pos + 256));
    if (m === null) this.fail("expected a name");
    this.pos += m[0].length;
    return m[0];
  }

  private number(): string {
    this.skip();
    const m = /^-?\s*(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|inf\b|nan\b)/.exec(
      this.src.slice(this.pos, this.pos + 400),
    );
    if (m === null) this.fail("expected a number");
    this.pos += m[0].length;
    return m[0].replace(/\s+/g, "");
  }

  /** A string literal's UTF-8 bytes (escapes may produce arbitrary bytes). */
  private stringBytes(): Uint8Array {
    this.expect('"');
    const s = this.src;
    const out: number[] = [];
    for (;;) {
      if (this.pos >= s.length) this.fail("unterminated string");
      const c = s[this.pos++]!;
      if (c === '"') break;
      if (c !== "\\") {
        const cp = s.codePointAt(this.pos - 1)!;
        if (cp > 0xffff) this.pos++;
        out.push(...encoder.encode(String.fromCodePoint(cp)));
        continue;
      }
      const e = s[this.pos++];
      switch (e) {
        case "a":
          out.push(7);
          break;
        case "b":
          out.push(8);
          break;
        case "f":
          out.push(12);
          break;
        case "n":
          out.push(10);
          break;
        case "r":
          out.push(13);
          break;
        case "t":
          out.push(9);
          break;
        case "v":
          out.push(11);
          break;
        case "x": {
          const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(this.pos, this.pos + 2));
          if (m === null) this.fail("bad \\x escape");
          out.push(Number.parseInt(m[0], 16));
          this.pos += m[0].length;
          break;
        }
        default:
          if (e !== undefined && e >= "0" && e <= "7") {
            const m = /^[0-7]{1,3}/.exec(s.slice(this.pos - 1, this.pos + 2))!;
            out.push(Number.parseInt(m[0], 8) & 0xff);
            this.pos += m[0].length - 1;
          } else if (e !== undefined) out.push(...encoder.encode(e));
          else this.fail("unterminated string");
      }
    }
    return Uint8Array.from(out);
  }

  private hexBytes(): Uint8Array {
    this.expect('"');
    const end = this.src.indexOf('"', this.pos);
    if (end < 0) this.fail("unterminated data literal");
    const hex = this.src.slice(this.pos, end).replace(/\s+/g, "");
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) this.fail("bad data literal");
    this.pos = end + 1;
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return out;
  }
}
