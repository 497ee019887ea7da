# The capnts schema front end's test schema: every construct of the schema language, compiled by
# capnts and by capnp and compared (test/compiler/frontend.test.ts).
@0xc3a5b7d9e1f20304;
# (The file's doc comment comes after its ID.)

using Cxx = import "/capnp/c++.capnp";
using Other = import "other.capnp";
using import "other.capnp".Level;
using OtherNested = Other.Imported.Nested;

$Cxx.namespace("capnts::test");
$Other.fileNote("file annotation");

annotation everywhere(*) :Text;
annotation onField(field, param) :UInt8;
annotation flag(struct, enum, interface) :Void;
annotation structValued(const, group, union, method, enumerant) :Settings;
annotation onAnnotation(annotation) :Bool $everywhere("annotations can be annotated");

struct Settings {
  name @0 :Text;
  level @1 :Level;
  ratio @2 :Float32 = 0.5;
}

enum Color $flag $everywhere("enum") {
  # Colors, with doc comments on enumerants.
  red @0;  # Red.
  green @1 $structValued(name = "g", level = high);
  # Green.
  blue @2 $everywhere("enumerant");
  outOfOrder @4;
  fourth @3;
}

struct Primitives $flag {
  # Every primitive type, with and without defaults.
  v @0 :Void;
  b @1 :Bool;
  i8 @2 :Int8;
  i16 @3 :Int16;
  i32 @4 :Int32;
  i64 @5 :Int64;
  u8 @6 :UInt8;
  u16 @7 :UInt16;
  u32 @8 :UInt32;
  u64 @9 :UInt64;
  f32 @10 :Float32;
  f64 @11 :Float64;
  t @12 :Text;
  d @13 :Data;
  dv @14 :Void = void;
  db @15 :Bool = true;
  di8 @16 :Int8 = -128;
  di16 @17 :Int16 = 0x7fff;
  di32 @18 :Int32 = -0x80000000;
  di64 @19 :Int64 = -9223372036854775808;
  du8 @20 :UInt8 = 0377;
  du16 @21 :UInt16 = 65535;
  du32 @22 :UInt32 = 4000000000;
  du64 @23 :UInt64 = 18446744073709551615;
  df32 @24 :Float32 = -1.25e-3;
  df64 @25 :Float64 = 6.02214076e23;
  dinf @26 :Float64 = inf;
  dninf @27 :Float32 = -inf;
  dnan @28 :Float64 = nan;
  dint @29 :Float64 = 3;
  dt @30 :Text = "tab\there, quote \" backslash \\ hex \x41 octal \101 newline\n" "and concatenated";
  dd @31 :Data = 0x"00 01 fe ff";
  dds @32 :Data = "bytes from text";
  de @33 :Color = blue;
  emptyText @34 :Text = "";
  bits @35 :Bool = false;
  bit2 @36 :Bool;
  small @37 :UInt8 = 1 $onField(3);
}

struct Pointers {
  list @0 :List(Int32) = [1, -2, 3];
  texts @1 :List(Text) = ["a", "b", ""];
  nested @2 :List(List(UInt8)) = [[1, 2], [], [3]];
  structs @3 :List(Settings) = [(name = "one"), (name = "two", level = high, ratio = 2)];
  settings @4 :Settings = (name = "default", level = high);
  bools @5 :List(Bool) = [true, false, true];
  enums @6 :List(Color) = [red, blue];
  datas @7 :List(Data) = [0x"01", "x"];
  any @8 :AnyPointer;
  anyStruct @9 :AnyStruct;
  anyList @10 :AnyList;
  cap @11 :Capability;
  iface @12 :Calculator;
  floats @13 :List(Float64) = [1.5, -inf, nan];
  voids @14 :List(Void) = [void, void];
  imported @15 :Other.Imported = (value = 9, nested = (x = "deep"));
  nestedType @16 :OtherNested;
  level @17 :Level = high;
}

struct Unions {
  # Unions named and unnamed, groups, and what shares space in them.
  before @0 :UInt16;
  union {
    # The unnamed union.
    a @1 :Int8;
    b @2 :Text;
    c :group {
      # A group in the union.
      c1 @3 :UInt64;
      c2 @4 :Bool;
      c3 @12 :List(Int8);
    }
    d @5 :Void;
  }
  named :union $structValued(name = "u") {
    x @6 :Float64;
    y @7 :Int16;
    inner :union {
      p @8 :UInt32;
      q @9 :Text;
    }
    g :group {
      g1 @13 :Bool;
      g2 @14 :Int64;
    }
  }
  grp :group $structValued(name = "grp") {
    # A group outside any union, with a union inside.
    h1 @10 :Int32;
    union {
      h2 @11 :Int8;
      h3 @15 :Float32;
    }
  }
  after @16 :Int64;
  retro @17! :union {
    r1 @18 :Int8;
    r2 @19 :Int16;
  }
}

struct Holes {
  # Fields in an order that fills holes: capnp's layout puts each in the first fitting hole.
  a @0 :Bool;
  b @1 :UInt64;
  c @2 :UInt8;
  d @3 :UInt16;
  e @4 :Bool;
  f @5 :UInt32;
  g @6 :Int8;
  union {
    h @7 :Bool;
    i @8 :UInt64;
    j @9 :UInt16;
  }
  k @10 :Int16;
}

struct Empty {}

struct Box(T) {
  # A generic struct.
  value @0 :T;
  struct Inner(U) {
    t @0 :T;
    u @1 :U;
  }
  pair @1 :Pair(T, Text);
  self @2 :Box(T);
}

struct Triple(A, B, C) {
  # List(C) of a third parameter: capnp refuses List(A) and List(B) (see brand.ts).
  cs @0 :List(C);
}

struct Pair(A, B) {
  first @0 :A;
  second @1 :B;
}

using TextBox = Box(Text);
using SettingsInner = Box(Settings).Inner(List(Int32));

struct UsesGenerics {
  textBox @0 :TextBox;
  inner @1 :SettingsInner;
  unbound @2 :Box;
  nestedBrand @3 :Box(Box(Data));
  pairs @4 :List(Pair(Text, Settings));
  cap @5 :Box(Calculator);
  innerDirect @6 :Box(Text).Inner(Data);
  triple @7 :Triple(Text, Data, Settings);
}

interface Calculator $flag {
  # An interface with every kind of method.
  evaluate @0 (expression :Text, precision :UInt8 = 3 $onField(1)) -> (value :Float64);
  # Named params and results.
  noResults @1 (x :Int32);
  noParams @2 () -> (y :Settings);
  structParams @3 Settings -> Settings;
  streaming @4 (chunk :Data) -> stream;
  generic @5 [T, U] (t :T, u :U) -> (box :Box(T));
  nullDefault @6 (s :Settings = null, t :Text = null) -> ();
  annotated @7 () -> () $structValued(name = "method");
}

interface Derived extends(Calculator, Other2) {
  extra @0 () -> (calc :Calculator);
}

interface Other2 {}

interface GenericIface(T) extends(Calculator) {
  get @0 () -> (value :T);
  put @1 [V] (value :V) -> (box :Box(V));
  typed @2 Box(T) -> Pair(T, T);
  nested @3 () -> (iface :GenericIface(Text));
}

const constVoid :Void = void;
const constBool :Bool = true $structValued(name = "const");
const constInt8 :Int8 = -5;
const constUInt64 :UInt64 = 0xffffffffffffffff;
const constFloat32 :Float32 = 1e10;
const constText :Text = "constant";
const constData :Data = 0x"de ad be ef";
const constEnum :Color = green;
const constStruct :Settings = (name = "s", level = low, ratio = -0.25);
const constList :List(Text) = ["x", "y"];
const constListOfLists :List(List(Settings)) = [[(name = "a")], []];
const constRef :Int8 = .constInt8;
const constRefImported :UInt16 = Other.importedConst;
const constRefStruct :Settings = .constStruct;
const constEmbedText :Text = embed "embedded.bin";
const constEmbedData :Data = embed "embedded.bin";
const constInStructValue :Settings = (name = .constText, level = high);
# Struct and list values inside literals: lists and structs in a struct, lists of structs, unions
# and groups set in a value.
const constPointers :Pointers = (list = [1, 2], settings = (name = "in", level = high, ratio = 3),
    structs = [(name = "a"), (), (level = high)], nested = [[1], [], [2, 3]],
    texts = ["x", ""], imported = (value = 1, nested = (x = "y")));
const constListOfStructs :List(Settings) = [(name = "one", ratio = 1), (), (level = high)];
const constListOfPointers :List(Pointers) = [(list = [7]), (structs = [(name = "deep")])];
const constUnions :List(Unions) = [(b = "text"), (c = (c1 = 5, c3 = [1])), (named = (inner = (q = "q"))), (grp = (h3 = 1.5), retro = (r2 = 2))];
# String escapes as capnp 0.9.2 reads them (kj::parse): \xHH takes exactly two hex digits, octal
# one to three digits (truncated to a byte); the bytes are kept even when they are not UTF-8.
const constEscHex :Text = "\xff\x00\x7f\xC3\xA9";
const constEscOctal :Text = "\0\7\77\101\177\377\777";
const constEscSimple :Text = "\a\b\f\n\r\t\v\\\'\"\?";
const constEscData :Data = "\xff\x00\101" "\x80";
const constEscList :List(Text) = ["\xfe", "plain", "\x80\x80"];
const constEscInStruct :Settings = (name = "\xff\xfe");
const constUtf8 :Text = "é€😀";

struct WithNested {
  # Nested declarations of every kind.
  struct Deep {
    enum DeepEnum { a @0; b @1; }
    const deepConst :DeepEnum = b;
  }
  interface NestedIface {}
  annotation nestedAnnotation(struct) :Int32;
  const nestedConst :Text = "nested";
  using Alias = Deep.DeepEnum;
  field @0 :Alias = a;
  deep @1 :Deep;
  fromConst @2 :Text = .WithNested.nestedConst;
}

struct Annotated $WithNested.nestedAnnotation(5) $everywhere("struct") {
  field @0 :Int32 $onField(7) $everywhere("field");
  union {
    a @1 :Void;
    b @2 :Void;
  }
  grp :group $everywhere("group") {
    x @3 :Int8;
  }
}

struct Explicit @0xd1a2b3c4d5e6f708 {
  # A struct with an explicit ID.
  x @0 :Int32;
}

interface ExplicitIface @0xe1a2b3c4d5e6f709 {}

struct Outer {
  struct Middle {
    struct Innermost {
      value @0 :Outer;
    }
  }
}
