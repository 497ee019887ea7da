# capnts serialization benchmark "eval" (issue 7): a random arithmetic expression tree that the
# server evaluates. Many small structs reached through unions of a value and a pointer: deep
# pointer chasing, almost no payload. Modelled on the workload of the same name in the C++
# benchmark suite.

@0xab3ec530241cc1c6;

enum Operation {
  add @0;
  subtract @1;
  multiply @2;
  divide @3;
  modulus @4;
}

struct Expression {
  op @0 :Operation;

  left :union {
    value @1 :Int32;
    expression @2 :Expression;
  }

  right :union {
    value @3 :Int32;
    expression @4 :Expression;
  }
}

struct EvaluationResult {
  value @0 :Int32;
}
