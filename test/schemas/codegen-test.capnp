# Code generator test schema: every construct of the schema language, used by the conformance
# tests in test/compiler (text encoded by `capnp encode` read through generated readers, messages
# built by generated builders decoded by `capnp decode`).
@0xd7e2f0c3a1b4c5d6;

using Import = import "codegen-import.capnp";

enum Color {
  red @0;
  green @1;
  blue @2;
  # The last color.
}

# A struct with every primitive type, with and without defaults.
struct AllTypes {
  voidField @0 :Void;
  boolField @1 :Bool;
  int8Field @2 :Int8;
  int16Field @3 :Int16;
  int32Field @4 :Int32;
  int64Field @5 :Int64;
  uint8Field @6 :UInt8;
  uint16Field @7 :UInt16;
  uint32Field @8 :UInt32;
  uint64Field @9 :UInt64;
  float32Field @10 :Float32;
  float64Field @11 :Float64;
  textField @12 :Text;
  dataField @13 :Data;
  structField @14 :AllTypes;
  enumField @15 :Color;
  anyField @16 :AnyPointer;

  voidList @17 :List(Void);
  boolList @18 :List(Bool);
  int8List @19 :List(Int8);
  int16List @20 :List(Int16);
  int32List @21 :List(Int32);
  int64List @22 :List(Int64);
  uint8List @23 :List(UInt8);
  uint16List @24 :List(UInt16);
  uint32List @25 :List(UInt32);
  uint64List @26 :List(UInt64);
  float32List @27 :List(Float32);
  float64List @28 :List(Float64);
  textList @29 :List(Text);
  dataList @30 :List(Data);
  structList @31 :List(AllTypes);
  enumList @32 :List(Color);
  listList @33 :List(List(Int32));
  structListList @34 :List(List(Small));
  imported @35 :Import.Imported;
}

struct Small {
  a @0 :UInt32;
  b @1 :Text;
}

# Defaults of every type.
struct Defaults {
  boolField @0 :Bool = true;
  int8Field @1 :Int8 = -123;
  int16Field @2 :Int16 = -12345;
  int32Field @3 :Int32 = -12345678;
  int64Field @4 :Int64 = -123456789012345;
  uint8Field @5 :UInt8 = 234;
  uint16Field @6 :UInt16 = 45678;
  uint32Field @7 :UInt32 = 3456789012;
  uint64Field @8 :UInt64 = 12345678901234567890;
  float32Field @9 :Float32 = 1234.5;
  float64Field @10 :Float64 = -123e45;
  textField @11 :Text = "foo";
  dataField @12 :Data = 0x"62 61 72";
  structField @13 :Small = (a = 7, b = "seven");
  enumField @14 :Color = blue;
  int32List @15 :List(Int32) = [1, 2, 3];
  textList @16 :List(Text) = ["x", "yz"];
  structList @17 :List(Small) = [(a = 1), (a = 2, b = "two")];
  float64Nan @18 :Float64 = nan;
  float32Inf @19 :Float32 = -inf;
  listList @20 :List(List(Text)) = [["a"], [], ["b", "c"]];
}

# Unions (unnamed and named), groups, and nesting.
struct Shape {
  name @0 :Text;
  union {
    circle @1 :Float64;
    square @2 :Float64;
    rectangle :group {
      width @3 :Float64;
      height @4 :Float64;
    }
    nothing @5 :Void;
    inner @10 :Shape;
  }
  style :union {
    plain @6 :Void;
    colored @7 :Color;
    fancy :group {
      pattern @8 :Text;
      border :union {
        none @11 :Void;
        width @12 :UInt16;
      }
    }
  }
  position :group {
    x @9 :Int32;
    y @13 :Int32;
  }

  struct Nested {
    enum Kind {
      a @0;
      b @1;
    }
    kind @0 :Kind;
    deeper @1 :Deeper;
    struct Deeper {
      value @0 :Int64 = 42;
    }
  }
  nested @14 :Nested;
}

# Names that collide with JS reserved words and base-class members.
struct Collide {
  class @0 :UInt32;
  constructor @1 :Text;
  toString @2 :Bool;
  which @3 :Int8;
  hasFoo @4 :Bool;
  foo @5 :Text;
  asReader @6 :Void;
  then @7 :UInt8;
  union {
    return @8 :Void;
    enum @9 :UInt16;
  }
  struct Reader {
    x @0 :Int32;
  }
  # Named like the generated list classes (Collide_List, Collide_ListBuilder).
  enum List {
    a @0;
  }
  struct ListBuilder {
    y @0 :Int32;
  }
}

const constInt :Int32 = -77;
const constText :Text = "constant text";
const constData :Data = 0x"00 01 ff";
const constStruct :Small = (a = 99, b = "ninety-nine");
const constList :List(Float64) = [1.5, -2.25];
const constEnum :Color = green;
const constBool :Bool = true;
const constU64 :UInt64 = 18446744073709551615;
const constVoid :Void = void;

# Interfaces: methods, superclasses, streaming, capability fields.
interface Calculator {
  evaluate @0 (expression :Expression) -> (value :Value);
  getOperator @1 (op :Operator) -> (func :Function);
  write @2 (data :Data) -> stream;

  struct Expression {
    union {
      literal @0 :Float64;
      previousResult @1 :Value;
      parameter @2 :UInt32;
      call :group {
        function @3 :Function;
        params @4 :List(Expression);
      }
    }
  }

  interface Value {
    read @0 () -> (value :Float64);
  }

  interface Function {
    call @0 (params :List(Float64)) -> (value :Float64);
  }

  enum Operator {
    add @0;
    subtract @1;
  }
}

interface Base {
  ping @0 () -> ();
}

interface Other {
  pong @0 (n :UInt32) -> (n :UInt32);
}

interface Derived extends(Base, Other) {
  dance @0 () -> (moves :List(Text), next :Derived);
  then @1 () -> ();
}

# Methods named like members of the Client base and the server hooks (getFd, shortenPath): they
# get a `$` suffix on both sides, so the hooks and the base members keep working. Names that
# collide with nothing keep their name: `cancel`, `pipeline` (RemotePromise's, not Client's),
# `which`, `toJSON`.
interface Clash {
  getFd @0 () -> (n :Int32);
  shortenPath @1 () -> ();
  isNull @2 () -> (yes :Bool);
  closed @3 () -> ();
  cancel @4 () -> (n :Int32);
  pipeline @5 () -> ();
  which @6 () -> ();
  toJSON @7 () -> ();
  close @8 () -> ();
  names @9 () -> PipelineNames;
}

# Fields named like the Pipeline base's `close()`: renamed on the pipeline class only.
struct PipelineNames {
  close @0 :Calculator;
  cancel @1 :Calculator;
}

struct HasCaps {
  calc @0 :Calculator;
  calcs @1 :List(Calculator);
  derived @2 :Derived;
  anyCap @3 :Capability;
  calcBox @4 :Box(Calculator);
  anyCaps @5 :List(Capability);
  calcLists @6 :List(List(Calculator));
}

# `:Capability` parameters and results.
interface Holder {
  hold @0 (cap :Capability) -> (held :HasCaps, cap :Capability);
}

# Generics.
struct Box(T) {
  value @0 :T;
  label @1 :Text;
}

struct Pair(K, V) {
  key @0 :K;
  value @1 :V;
}

struct UsesGenerics {
  textBox @0 :Box(Text);
  smallBox @1 :Box(Small);
  pair @2 :Pair(Text, List(Int32));
  anyBox @3 :Box;
}

interface Store(T) {
  put @0 [U] (value :T, extra :U) -> (key :Text);
  get @1 (key :Text) -> (value :T);
}

annotation note(*) :Text;
struct Annotated $note("on a struct") {
  field @0 :UInt32 $note("on a field");
}
