# The calculator: the classic Cap'n Proto RPC demo, in capnts's own words.
#
# Same shape as the calculator of Cap'n Proto's C++ samples (with its own file ID, so its type IDs
# differ): a Calculator evaluates expression trees whose leaves may be literals, results of
# earlier evaluations still on the server (`previousResult`), parameters, or calls to functions,
# which are capabilities too and may live on either side of the connection. It shows promise
# pipelining: a client can evaluate an expression, feed the (not yet known) result into another
# expression and read the final value in a single network round trip.
#
# Used by examples/calculator (TypeScript) and test/interop/cpp/calculator-{server,client}.c++.

@0xa97cb1c771acf56c;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("capnts::calculator");

interface Calculator {
  evaluate @0 (expression :Expression) -> (value :Value);
  # Evaluates the expression and returns its value as a capability: the client can pass it back
  # in a later expression (`previousResult`) or call read() on it, both without waiting.

  struct Expression {
    union {
      literal @0 :Float64;
      # A number.

      previousResult @1 :Value;
      # The value of an earlier evaluation (a capability returned by evaluate()).

      parameter @2 :UInt32;
      # The index of a parameter; only valid inside a function body (see defFunction).

      call :group {
        # Calls a function with the values of the parameter expressions.
        function @3 :Function;
        params @4 :List(Expression);
      }
    }
  }

  interface Value {
    read @0 () -> (value :Float64);
  }

  defFunction @1 (paramCount :Int32, body :Expression) -> (func :Function);
  # Defines a function of `paramCount` parameters whose body may use `parameter` expressions.

  interface Function {
    call @0 (params :List(Float64)) -> (value :Float64);
    # Requires exactly as many params as the function takes.
  }

  getOperator @2 (op :Operator) -> (func :Function);
  # A function of two parameters for one of the four basic operations.

  enum Operator {
    add @0;
    subtract @1;
    multiply @2;
    divide @3;
  }
}
