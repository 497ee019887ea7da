// Typed accessors for bench/schema/eval.capnp, written by hand in the shape the capnts code
// generator emits (see carsales.ts in this folder; groups are views of the same struct, union
// `which()` returns the member's name). TODO: replace with gen/capnts/eval.ts.
import * as $ from "../../../src/wire/index.js";

export const Operation = { add: 0, subtract: 1, multiply: 2, divide: 3, modulus: 4 } as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

const Expression_left_which = ["value", "expression"] as const;
export type Expression_left_Which = (typeof Expression_left_which)[number] | "_unknown";
const Expression_right_which = ["value", "expression"] as const;
export type Expression_right_Which = (typeof Expression_right_which)[number] | "_unknown";

export class Expression_Reader extends $.StructReader {
  get op(): Operation {
    return this._getUint16(0) as Operation;
  }
  get left(): Expression_left_Reader {
    return this._as(Expression_left_Reader);
  }
  get right(): Expression_right_Reader {
    return this._as(Expression_right_Reader);
  }
}
export class Expression_Builder extends $.StructBuilder {
  static readonly _dataWords = 2;
  static readonly _ptrCount = 2;
  get op(): Operation {
    return this._getUint16(0) as Operation;
  }
  set op(value: Operation) {
    this._setUint16(0, value);
  }
  get left(): Expression_left_Builder {
    return this._as(Expression_left_Builder);
  }
  get right(): Expression_right_Builder {
    return this._as(Expression_right_Builder);
  }
  asReader(): Expression_Reader {
    return this._asReader(Expression_Reader);
  }
}

export class Expression_left_Reader extends $.StructReader {
  which(): Expression_left_Which {
    return Expression_left_which[this._getUint16(2)] ?? "_unknown";
  }
  isValue(): boolean {
    return this._getUint16(2) === 0;
  }
  get value(): number {
    return this._getInt32(4);
  }
  isExpression(): boolean {
    return this._getUint16(2) === 1;
  }
  get expression(): Expression_Reader {
    return this._getStruct(0, Expression_Reader);
  }
}
export class Expression_left_Builder extends $.StructBuilder {
  static readonly _dataWords = 2;
  static readonly _ptrCount = 2;
  which(): Expression_left_Which {
    return Expression_left_which[this._getUint16(2)] ?? "_unknown";
  }
  get value(): number {
    return this._getInt32(4);
  }
  set value(value: number) {
    this._setUint16(2, 0);
    this._setInt32(4, value);
  }
  get expression(): Expression_Builder {
    return this._getStruct(0, Expression_Builder);
  }
  initExpression(): Expression_Builder {
    this._setUint16(2, 1);
    return this._initStruct(0, Expression_Builder);
  }
}

export class Expression_right_Reader extends $.StructReader {
  which(): Expression_right_Which {
    return Expression_right_which[this._getUint16(12)] ?? "_unknown";
  }
  isValue(): boolean {
    return this._getUint16(12) === 0;
  }
  get value(): number {
    return this._getInt32(8);
  }
  isExpression(): boolean {
    return this._getUint16(12) === 1;
  }
  get expression(): Expression_Reader {
    return this._getStruct(1, Expression_Reader);
  }
}
export class Expression_right_Builder extends $.StructBuilder {
  static readonly _dataWords = 2;
  static readonly _ptrCount = 2;
  which(): Expression_right_Which {
    return Expression_right_which[this._getUint16(12)] ?? "_unknown";
  }
  get value(): number {
    return this._getInt32(8);
  }
  set value(value: number) {
    this._setUint16(12, 0);
    this._setInt32(8, value);
  }
  get expression(): Expression_Builder {
    return this._getStruct(1, Expression_Builder);
  }
  initExpression(): Expression_Builder {
    this._setUint16(12, 1);
    return this._initStruct(1, Expression_Builder);
  }
}

export class EvaluationResult_Reader extends $.StructReader {
  get value(): number {
    return this._getInt32(0);
  }
}
export class EvaluationResult_Builder extends $.StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 0;
  get value(): number {
    return this._getInt32(0);
  }
  set value(value: number) {
    this._setInt32(0, value);
  }
  asReader(): EvaluationResult_Reader {
    return this._asReader(EvaluationResult_Reader);
  }
}
