@0xba03e9bd11cbc9c5;
# Schema for the wire-format conformance tests (hand-written accessors in test/wire/fixtures.ts).

enum Color { red @0; green @1; blue @2; }

struct Prims {
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
  text @12 :Text;
  data @13 :Data;
  inner @14 :Prims;
  color @15 :Color;
  boolList @16 :List(Bool);
  i8List @17 :List(Int8);
  u16List @18 :List(UInt16);
  i32List @19 :List(Int32);
  u64List @20 :List(UInt64);
  f64List @21 :List(Float64);
  textList @22 :List(Text);
  structList @23 :List(Prims);
  listList @24 :List(List(Int32));
  voidList @25 :List(Void);
  dataList @26 :List(Data);
  colorList @27 :List(Color);
  union {
    none @28 :Void;
    num @29 :Int32;
    str @30 :Text;
  }
  grp :group {
    x @31 :UInt32;
    y @32 :Text;
  }
}

struct Defaults {
  b @0 :Bool = true;
  i32 @1 :Int32 = -123;
  u64 @2 :UInt64 = 12345678901234;
  f32 @3 :Float32 = 1.5;
  f64 @4 :Float64 = -2.25;
  text @5 :Text = "hello";
  data @6 :Data = 0x"0102";
  i16List @7 :List(Int16) = [1, 2, 3];
  inner @8 :Defaults = (i32 = 7, text = "nested");
  color @9 :Color = blue;
}

# Old and new versions of one struct, for upgrade tests.
struct OldVersion {
  a @0 :Int64;
  s @1 :Text;
}
struct NewVersion {
  a @0 :Int64;
  s @1 :Text;
  b @2 :Int64 = 42;
  t @3 :Text = "default";
  l @4 :List(Int32);
}
