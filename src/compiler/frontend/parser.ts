/**
 * The schema parser (c++/src/capnp/compiler/parser.c++): statements → a file Declaration. Each
 * statement is parsed with the declaration grammar of its scope (file, struct, enum, interface);
 * errors are reported where capnp reports them and the statement is dropped.
 */
import {
  ANNOTATION_TARGETS,
  type AnnotationApplication,
  type AnnotationTarget,
  type BrandParameter,
  type Declaration,
  type DeclBody,
  type DeclId,
  type Expression,
  type LocatedInteger,
  type LocatedText,
  type MethodParam,
  type Param,
  type ParamList,
} from "./ast.js";
import type { ErrorReporter } from "./errors.js";
import { generateRandomId } from "./ids.js";
import type { Statement, Token } from "./lexer.js";

class NoMatch extends Error {}
const NO = new NoMatch();

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type Level = "file" | "struct" | "enum" | "interface";

/** A cursor over one token sequence; `best` is how far any attempt got (for error positions). */
class Input {
  pos = 0;
  best = 0;
  constructor(readonly tokens: readonly Token[]) {}
  peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  next(): Token {
    const t = this.tokens[this.pos];
    if (t === undefined) this.fail();
    this.pos++;
    if (this.pos > this.best) this.best = this.pos;
    return t;
  }
  fail(): never {
    if (this.pos > this.best) this.best = this.pos;
    throw NO;
  }
  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }
  /** Try `f`; on no match, rewind and return undefined. */
  opt<T>(f: () => T): T | undefined {
    const save = this.pos;
    try {
      return f();
    } catch (e) {
      if (e !== NO) throw e;
      this.pos = save;
      return undefined;
    }
  }
  oneOf<T>(...fs: (() => T)[]): T {
    for (const f of fs) {
      const save = this.pos;
      try {
        return f();
      } catch (e) {
        if (e !== NO) throw e;
        this.pos = save;
      }
    }
    this.fail();
  }
  many<T>(f: () => T): T[] {
    const out: T[] = [];
    for (;;) {
      const v = this.opt(f);
      if (v === undefined) return out;
      out.push(v);
    }
  }
  identifier(): LocatedText {
    const t = this.next();
    if (t.kind !== "identifier") {
      this.pos--;
      this.fail();
    }
    return { value: t.value, startByte: t.startByte, endByte: t.endByte };
  }
  keyword(k: string): LocatedText {
    const t = this.identifier();
    if (t.value !== k) {
      this.pos--;
      this.fail();
    }
    return t;
  }
  op(o: string): Token {
    const t = this.next();
    if (t.kind !== "operator" || t.value !== o) {
      this.pos--;
      this.fail();
    }
    return t;
  }
  integer(): LocatedInteger {
    const t = this.next();
    if (t.kind !== "integer") {
      this.pos--;
      this.fail();
    }
    return { value: t.value, startByte: t.startByte, endByte: t.endByte };
  }
  end(): void {
    if (!this.atEnd()) this.fail();
  }
}

/**
 * Which of `expression`'s base alternatives (in their order there) can start with `t`: integer,
 * -integer, float, -float, -inf, strings, binary, list, tuple, import, embed, .name, name.
 */
function baseAlternatives(t: Token | undefined, next: Token | undefined): number[] {
  switch (t?.kind) {
    case "integer":
      return [0];
    case "float":
      return [2];
    case "string":
      return [5];
    case "binary":
      return [6];
    case "bracketList":
      return [7];
    case "parenList":
      return [8];
    case "identifier":
      if (t.value === "import" && next?.kind === "string") return [9, 12];
      if (t.value === "embed" && next?.kind === "string") return [10, 12];
      return [12];
    case "operator":
      if (t.value === "-") return [1, 3, 4];
      if (t.value === ".") return [11];
      return [];
    default:
      return [];
  }
}

export class Parser {
  constructor(readonly errors: ErrorReporter) {}

  /** Items of a raw list token, each parsed by `item`; a failed item is reported and undefined. */
  private listItems<T>(
    t: Token,
    item: (i: Input) => T,
  ): { items: (T | undefined)[]; startByte: number; endByte: number } {
    if (t.kind !== "parenList" && t.kind !== "bracketList") throw NO;
    const items = t.items.map((toks) => {
      const i = new Input(toks);
      try {
        const v = item(i);
        i.end();
        return v;
      } catch (e) {
        if (e !== NO) throw e;
        if (i.best < toks.length)
          this.errors.add(toks[i.best]!.startByte, toks[toks.length - 1]!.endByte, "Parse error.");
        else if (toks.length > 0)
          this.errors.add(toks[0]!.startByte, toks[toks.length - 1]!.endByte, "Parse error.");
        else this.errors.add(t.startByte, t.endByte, "Parse error: Empty list item.");
        return undefined;
      }
    });
    return { items, startByte: t.startByte, endByte: t.endByte };
  }

  private parenList<T>(i: Input, item: (i: Input) => T) {
    const t = i.next();
    if (t.kind !== "parenList") {
      i.pos--;
      i.fail();
    }
    return this.listItems(t, item);
  }

  private tuple(i: Input): { params: Param[]; startByte: number; endByte: number } {
    const l = this.parenList(i, (j) => {
      const name = j.opt(() => {
        const n = j.identifier();
        j.op("=");
        return n;
      });
      return { name, value: this.expression(j) } as Param;
    });
    return {
      params: l.items.map(
        (p) => p ?? { name: undefined, value: { kind: "unknown", startByte: 0, endByte: 0 } as Expression },
      ),
      startByte: l.startByte,
      endByte: l.endByte,
    };
  }

  expression(i: Input): Expression {
    // The alternatives of capnp's grammar, chosen by the first token (trying each in turn
    // costs a thrown exception per miss, and expressions are most of a schema).
    const t = i.peek();
    const alternatives = baseAlternatives(t, i.tokens[i.pos + 1]);
    let base: Expression = i.oneOf<Expression>(
      ...(
        [
          () => {
            const v = i.integer();
            return { kind: "positiveInt", value: v.value, startByte: v.startByte, endByte: v.endByte };
          },
          () => {
            i.op("-");
            const v = i.integer();
            return { kind: "negativeInt", value: v.value, startByte: v.startByte, endByte: v.endByte };
          },
          () => {
            const t = i.next();
            if (t.kind !== "float") i.fail();
            return { kind: "float", value: t.value, startByte: t.startByte, endByte: t.endByte };
          },
          () => {
            i.op("-");
            const t = i.next();
            if (t.kind !== "float") i.fail();
            return { kind: "float", value: -t.value, startByte: t.startByte, endByte: t.endByte };
          },
          () => {
            const m = i.op("-");
            const k = i.keyword("inf");
            return { kind: "float", value: -Infinity, startByte: m.startByte, endByte: k.endByte };
          },
          () => {
            const parts: Token[] = [];
            for (;;) {
              const t = i.peek();
              if (t?.kind !== "string") break;
              parts.push(i.next());
            }
            if (parts.length === 0) i.fail();
            // Adjacent literals are one string ("a" "b"), joined byte by byte.
            const bytes = concatBytes(parts.map((p) => (p as { bytes: Uint8Array }).bytes));
            return {
              kind: "string",
              value: new TextDecoder().decode(bytes),
              bytes,
              startByte: parts[0]!.startByte,
              endByte: parts[parts.length - 1]!.endByte,
            };
          },
          () => {
            const t = i.next();
            if (t.kind !== "binary") i.fail();
            return { kind: "binary", value: t.value, startByte: t.startByte, endByte: t.endByte };
          },
          () => {
            const t = i.next();
            if (t.kind !== "bracketList") i.fail();
            const l = this.listItems(t, (j) => this.expression(j));
            return {
              kind: "list",
              items: l.items.map((x) => x ?? ({ kind: "unknown", startByte: 0, endByte: 0 } as Expression)),
              startByte: t.startByte,
              endByte: t.endByte,
            };
          },
          () => {
            const tp = this.tuple(i);
            if (tp.params.length === 1 && tp.params[0]!.name === undefined) return tp.params[0]!.value;
            return { kind: "tuple", params: tp.params, startByte: tp.startByte, endByte: tp.endByte };
          },
          () => {
            const k = i.keyword("import");
            const t = i.next();
            if (t.kind !== "string") i.fail();
            return {
              kind: "import",
              name: { value: t.value, startByte: t.startByte, endByte: t.endByte },
              startByte: k.startByte,
              endByte: t.endByte,
            };
          },
          () => {
            const k = i.keyword("embed");
            const t = i.next();
            if (t.kind !== "string") i.fail();
            return {
              kind: "embed",
              name: { value: t.value, startByte: t.startByte, endByte: t.endByte },
              startByte: k.startByte,
              endByte: t.endByte,
            };
          },
          () => {
            const d = i.op(".");
            const name = i.identifier();
            return { kind: "absoluteName", name, startByte: d.startByte, endByte: name.endByte };
          },
          () => {
            const name = i.identifier();
            return { kind: "relativeName", name, startByte: name.startByte, endByte: name.endByte };
          },
        ] as (() => Expression)[]
      ).filter((_, k) => alternatives.includes(k)),
    );
    for (;;) {
      const next = i.peek();
      if (!((next?.kind === "operator" && next.value === ".") || next?.kind === "parenList")) return base;
      const suffix = i.opt(() =>
        i.oneOf<Expression>(
          () => {
            i.op(".");
            const name = i.identifier();
            return { kind: "member", parent: base, name, startByte: base.startByte, endByte: name.endByte };
          },
          () => {
            const tp = this.tuple(i);
            return {
              kind: "application",
              fn: base,
              params: tp.params,
              startByte: base.startByte,
              endByte: tp.endByte,
            };
          },
        ),
      );
      if (suffix === undefined) return base;
      base = suffix;
    }
  }

  private annotation(i: Input): AnnotationApplication {
    i.op("$");
    const e = this.expression(i);
    if (e.kind === "application") {
      // The value was parsed as an application of the name; take it apart (as parser.c++ does).
      const ps = e.params;
      if (ps.length === 1 && ps[0]!.name === undefined) return { name: e.fn, value: ps[0]!.value };
      return {
        name: e.fn,
        value: {
          kind: "tuple",
          params: ps,
          startByte: ps[0]?.value.startByte ?? e.fn.endByte,
          endByte: e.endByte,
        },
      };
    }
    return { name: e, value: undefined };
  }

  private annotations(i: Input): AnnotationApplication[] {
    const out: AnnotationApplication[] = [];
    for (;;) {
      const t = i.peek();
      if (t?.kind !== "operator" || t.value !== "$") return out;
      const a = i.opt(() => this.annotation(i));
      if (a === undefined) return out;
      out.push(a);
    }
  }

  private uid(i: Input): LocatedInteger {
    i.op("@");
    const v = i.integer();
    if (v.value < 1n << 63n) this.errors.on(v, "Invalid ID.  Please generate a new one with 'capnpc -i'.");
    return v;
  }

  private ordinal(i: Input): LocatedInteger {
    i.op("@");
    const v = i.integer();
    if (v.value >= 65536n) this.errors.on(v, "Ordinals cannot be greater than 65535.");
    return v;
  }

  private genericParams(i: Input): BrandParameter[] | undefined {
    const t = i.peek();
    if (t?.kind !== "parenList") return undefined;
    i.next();
    const l = this.listItems(t, (j) => j.identifier());
    return l.items
      .filter((x) => x !== undefined)
      .map((n) => ({ name: n.value, startByte: n.startByte, endByte: n.endByte }));
  }

  private decl(
    name: LocatedText,
    id: DeclId,
    body: DeclBody,
    annotations: AnnotationApplication[],
    parameters: readonly BrandParameter[] = [],
  ): Omit<Declaration, "nested" | "docComment" | "startByte" | "endByte"> {
    return { name, id, body, annotations, parameters };
  }

  private optUid(i: Input): DeclId {
    const t = i.peek();
    const u = t?.kind === "operator" && t.value === "@" ? i.opt(() => this.uid(i)) : undefined;
    return u === undefined ? { kind: "unspecified" } : { kind: "uid", value: u };
  }

  // Each returns the declaration (without nested/doc/location) and the level of its members.
  private genericDecl(i: Input): [ReturnType<Parser["decl"]>, Level | undefined] {
    return i.oneOf<[ReturnType<Parser["decl"]>, Level | undefined]>(
      () => {
        const k = i.keyword("using");
        const name = i.opt(() => {
          const n = i.identifier();
          i.op("=");
          return n;
        });
        const target = this.expression(i);
        let n = name;
        if (n === undefined) {
          if (target.kind === "member") n = target.name;
          else {
            this.errors.on(
              target,
              "'using' declaration without '=' must specify a named declaration from a different scope.",
            );
            n = { value: "", startByte: k.startByte, endByte: k.endByte };
          }
        }
        return [this.decl(n, { kind: "unspecified" }, { kind: "using", target }, []), undefined];
      },
      () => {
        i.keyword("const");
        const name = i.identifier();
        const id = this.optUid(i);
        i.op(":");
        const type = this.expression(i);
        i.op("=");
        const value = this.expression(i);
        const anns = this.annotations(i);
        return [this.decl(name, id, { kind: "const", type, value }, anns), undefined];
      },
      () => {
        i.keyword("annotation");
        const name = i.identifier();
        const id = this.optUid(i);
        const l = this.parenList(i, (j) =>
          j.oneOf(
            () => j.identifier(),
            () => {
              const t = j.op("*");
              return { value: "*", startByte: t.startByte, endByte: t.endByte };
            },
          ),
        );
        i.op(":");
        const type = this.expression(i);
        const anns = this.annotations(i);
        const targets = new Set<AnnotationTarget>();
        for (const t of l.items) {
          if (t === undefined) continue;
          if (t.value === "*") {
            if (l.items.length > 1)
              this.errors.on(t, "Wildcard should not be specified together with other targets.");
            for (const x of ANNOTATION_TARGETS) targets.add(x);
          } else if (!(ANNOTATION_TARGETS as readonly string[]).includes(t.value)) {
            this.errors.on(t, "Not a valid annotation target.");
          } else {
            if (targets.has(t.value as AnnotationTarget))
              this.errors.on(t, "Duplicate target specification.");
            targets.add(t.value as AnnotationTarget);
          }
        }
        return [this.decl(name, id, { kind: "annotation", type, targets }, anns), undefined];
      },
      () => {
        i.keyword("enum");
        const name = i.identifier();
        const id = this.optUid(i);
        const anns = this.annotations(i);
        return [this.decl(name, id, { kind: "enum" }, anns), "enum"];
      },
      () => {
        i.keyword("struct");
        const name = i.identifier();
        const id = this.optUid(i);
        const params = this.genericParams(i);
        const anns = this.annotations(i);
        return [this.decl(name, id, { kind: "struct" }, anns, params), "struct"];
      },
      () => {
        i.keyword("interface");
        const name = i.identifier();
        const id = this.optUid(i);
        const params = this.genericParams(i);
        const supers = i.opt(() => {
          i.keyword("extends");
          return this.parenList(i, (j) => this.expression(j));
        });
        const anns = this.annotations(i);
        const superclasses = (supers?.items ?? []).filter((x) => x !== undefined);
        return [this.decl(name, id, { kind: "interface", superclasses }, anns, params), "interface"];
      },
    );
  }

  private param(i: Input): MethodParam {
    const name = i.identifier();
    i.op(":");
    const type = this.expression(i);
    const defaultValue = i.opt(() => {
      i.op("=");
      return this.expression(i);
    });
    const annotations = this.annotations(i);
    const last = i.tokens[i.pos - 1]!;
    return { name, type, defaultValue, annotations, startByte: name.startByte, endByte: last.endByte };
  }

  private paramList(i: Input): ParamList {
    return i.oneOf<ParamList>(
      () => {
        const l = this.parenList(i, (j) => this.param(j));
        return {
          kind: "namedList",
          params: l.items.filter((x) => x !== undefined),
          startByte: l.startByte,
          endByte: l.endByte,
        };
      },
      () => {
        const k = i.keyword("stream");
        return { kind: "stream", startByte: k.startByte, endByte: k.endByte };
      },
      () => {
        const type = this.expression(i);
        return { kind: "type", type, startByte: type.startByte, endByte: type.endByte };
      },
    );
  }

  private memberDecl(i: Input, level: Level): [ReturnType<Parser["decl"]>, Level | undefined] {
    const alternatives: (() => [ReturnType<Parser["decl"]>, Level | undefined])[] = [];
    if (level === "file")
      alternatives.push(
        () => this.genericDecl(i),
        () => {
          const id = this.uid(i);
          return [
            this.decl(
              { value: "", startByte: 0, endByte: 0 },
              { kind: "unspecified" },
              { kind: "nakedId", id },
              [],
            ),
            undefined,
          ];
        },
        () => {
          const annotation = this.annotation(i);
          return [
            this.decl(
              { value: "", startByte: 0, endByte: 0 },
              { kind: "unspecified" },
              { kind: "nakedAnnotation", annotation },
              [],
            ),
            undefined,
          ];
        },
      );
    else if (level === "enum")
      alternatives.push(() => {
        const name = i.identifier();
        const ord = this.ordinal(i);
        const anns = this.annotations(i);
        return [this.decl(name, { kind: "ordinal", value: ord }, { kind: "enumerant" }, anns), undefined];
      });
    else if (level === "struct")
      alternatives.push(
        () => this.unionDecl(i),
        () => {
          const name = i.identifier();
          const ord = this.ordinal(i);
          i.op(":");
          const type = this.expression(i);
          const defaultValue = i.opt(() => {
            i.op("=");
            return this.expression(i);
          });
          const anns = this.annotations(i);
          return [
            this.decl(name, { kind: "ordinal", value: ord }, { kind: "field", type, defaultValue }, anns),
            undefined,
          ];
        },
        () => {
          const name = i.identifier();
          i.op(":");
          i.keyword("group");
          const anns = this.annotations(i);
          return [this.decl(name, { kind: "unspecified" }, { kind: "group" }, anns), "struct"];
        },
        () => this.genericDecl(i),
      );
    else
      alternatives.push(
        () => {
          const name = i.identifier();
          const ord = this.ordinal(i);
          const implicit = i.opt(() => {
            const t = i.next();
            if (t.kind !== "bracketList") i.fail();
            return this.listItems(t, (j) => j.identifier());
          });
          const params = this.paramList(i);
          const results = i.opt(() => {
            i.op("->");
            return this.paramList(i);
          });
          const anns = this.annotations(i);
          const parameters = (implicit?.items ?? [])
            .filter((x) => x !== undefined)
            .map((n) => ({ name: n.value, startByte: n.startByte, endByte: n.endByte }));
          return [
            this.decl(
              name,
              { kind: "ordinal", value: ord },
              { kind: "method", params, results },
              anns,
              parameters,
            ),
            undefined,
          ];
        },
        () => this.genericDecl(i),
      );
    return i.oneOf(...alternatives);
  }

  private unionDecl(i: Input): [ReturnType<Parser["decl"]>, Level | undefined] {
    return i.oneOf<[ReturnType<Parser["decl"]>, Level | undefined]>(
      () => {
        const name = i.identifier();
        let ordinal: LocatedInteger | undefined;
        let missingExclamation = false;
        let missingColon = false;
        i.oneOf(
          () => {
            ordinal = this.ordinal(i);
            missingExclamation = i.opt(() => i.op("!")) === undefined;
            missingColon = i.opt(() => i.op(":")) === undefined;
          },
          () => {
            i.op(":");
          },
        );
        i.keyword("union");
        const anns = this.annotations(i);
        if (ordinal !== undefined && missingExclamation)
          this.errors.on(
            ordinal,
            "As of Cap'n Proto v0.3, it is no longer necessary to assign numbers to unions. However, removing the number will break binary compatibility. If this is an old protocol and you need to retain compatibility, please add an exclamation point after the number to indicate that it is really needed, e.g. `foo @1! :union {`. If this is a new protocol or compatibility doesn't matter, just remove the @n entirely. Sorry for the inconvenience, and thanks for being an early adopter!  :)",
          );
        if (ordinal !== undefined && missingColon)
          this.errors.on(
            ordinal,
            "As of Cap'n Proto v0.3, the 'union' keyword should be prefixed with a colon for named unions, e.g. `foo :union {`.",
          );
        const id: DeclId =
          ordinal === undefined ? { kind: "unspecified" } : { kind: "ordinal", value: ordinal };
        return [this.decl(name, id, { kind: "union" }, anns), "struct"];
      },
      () => {
        const k = i.keyword("union");
        i.end();
        return [
          this.decl(
            { value: "", startByte: k.startByte, endByte: k.endByte },
            { kind: "unspecified" },
            { kind: "union" },
            [],
          ),
          "struct",
        ];
      },
    );
  }

  /** One statement with the grammar of `level`; undefined (after reporting) when it does not parse. */
  statement(s: Statement, level: Level): Declaration | undefined {
    const i = new Input(s.tokens);
    let parsed: [ReturnType<Parser["decl"]>, Level | undefined];
    try {
      parsed = this.memberDecl(i, level);
      i.end();
    } catch (e) {
      if (e !== NO) throw e;
      const t = s.tokens;
      const at =
        i.best < t.length ? t[i.best]!.startByte : t.length > 0 ? t[t.length - 1]!.endByte : s.startByte;
      this.errors.add(at, at, "Parse error.");
      return undefined;
    }
    const [d, memberLevel] = parsed;
    let nested: Declaration[] = [];
    if (s.block === undefined) {
      if (memberLevel !== undefined)
        this.errors.add(s.startByte, s.endByte, "This statement should end with a block, not a semicolon.");
    } else if (memberLevel === undefined) {
      this.errors.add(s.startByte, s.endByte, "This statement should end with a semicolon, not a block.");
    } else {
      nested = s.block.map((m) => this.statement(m, memberLevel)).filter((x) => x !== undefined);
    }
    return { ...d, nested, docComment: s.docComment, startByte: s.startByte, endByte: s.endByte };
  }

  /** The file's root declaration (C++ `parseFile`); undefined ID is an error, as in capnp. */
  file(statements: readonly Statement[], fileName: string): Declaration {
    const decls: Declaration[] = [];
    const annotations: AnnotationApplication[] = [];
    let id: LocatedInteger | undefined;
    let docComment: string | undefined;
    for (const s of statements) {
      const d = this.statement(s, "file");
      if (d === undefined) continue;
      if (d.body.kind === "nakedId") {
        if (id !== undefined) this.errors.on(d, "File can only have one ID.");
        else {
          id = d.body.id;
          docComment = d.docComment;
        }
      } else if (d.body.kind === "nakedAnnotation") annotations.push(d.body.annotation);
      else decls.push(d);
    }
    if (id === undefined && !this.errors.hadErrors)
      this.errors.add(
        0,
        0,
        `File does not declare an ID.  I've generated one for you.  Add this line to your file: @0x${generateRandomId().toString(16)};`,
      );
    return {
      name: { value: fileName, startByte: 0, endByte: 0 },
      id: id === undefined ? { kind: "unspecified" } : { kind: "uid", value: id },
      parameters: [],
      nested: decls,
      annotations,
      docComment,
      body: { kind: "file" },
      startByte: 0,
      endByte: 0,
    };
  }
}
