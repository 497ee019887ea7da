// Typed accessors for bench/schema/carsales.capnp, written by hand in the shape the capnts code
// generator emits (Foo_Reader / Foo_Builder over the wire runtime's StructReader/StructBuilder,
// offsets from `capnp compile -ocapnp bench/schema/carsales.capnp`), because the generator was
// not ready when the benchmarks were written. TODO: replace with gen/capnts/carsales.ts from
// bin/capnpc-capnts (bench/serialization/regen.sh) once the generator runs on this schema.
import * as $ from "../../../src/wire/index.js";

export const Color = {
  black: 0,
  white: 1,
  red: 2,
  green: 3,
  blue: 4,
  cyan: 5,
  magenta: 6,
  yellow: 7,
  silver: 8,
} as const;
export type Color = (typeof Color)[keyof typeof Color];

export class ParkingLot_Reader extends $.StructReader {
  get cars(): $.StructList<Car_Reader> {
    return this._getList(0, $.StructList.of(Car_Reader));
  }
}
export class ParkingLot_Builder extends $.StructBuilder {
  static readonly _dataWords = 0;
  static readonly _ptrCount = 1;
  get cars(): $.StructListBuilder<Car_Builder> {
    return this._getList(0, $.StructListBuilder.of(Car_Builder));
  }
  initCars(length: number): $.StructListBuilder<Car_Builder> {
    return this._initList(0, $.StructListBuilder.of(Car_Builder), length);
  }
  asReader(): ParkingLot_Reader {
    return this._asReader(ParkingLot_Reader);
  }
}

export class TotalValue_Reader extends $.StructReader {
  get amount(): bigint {
    return this._getUint64(0);
  }
}
export class TotalValue_Builder extends $.StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 0;
  get amount(): bigint {
    return this._getUint64(0);
  }
  set amount(value: bigint) {
    this._setUint64(0, value);
  }
  asReader(): TotalValue_Reader {
    return this._asReader(TotalValue_Reader);
  }
}

export class Car_Reader extends $.StructReader {
  get make(): string {
    return this._getText(0);
  }
  get model(): string {
    return this._getText(1);
  }
  get color(): Color {
    return this._getUint16(0) as Color;
  }
  get seats(): number {
    return this._getUint8(2);
  }
  get doors(): number {
    return this._getUint8(3);
  }
  get wheels(): $.StructList<Wheel_Reader> {
    return this._getList(2, $.StructList.of(Wheel_Reader));
  }
  get length(): number {
    return this._getUint16(4);
  }
  get width(): number {
    return this._getUint16(6);
  }
  get height(): number {
    return this._getUint16(8);
  }
  get weight(): number {
    return this._getUint32(12);
  }
  get engine(): Engine_Reader {
    return this._getStruct(3, Engine_Reader);
  }
  get fuelCapacity(): number {
    return this._getFloat32(16);
  }
  get fuelLevel(): number {
    return this._getFloat32(20);
  }
  get hasPowerWindows(): boolean {
    return this._getBool(80);
  }
  get hasPowerSteering(): boolean {
    return this._getBool(81);
  }
  get hasCruiseControl(): boolean {
    return this._getBool(82);
  }
  get cupHolders(): number {
    return this._getUint8(11);
  }
  get hasNavSystem(): boolean {
    return this._getBool(83);
  }
}
export class Car_Builder extends $.StructBuilder {
  static readonly _dataWords = 3;
  static readonly _ptrCount = 4;
  get make(): string {
    return this._getText(0);
  }
  set make(value: string) {
    this._setText(0, value);
  }
  get model(): string {
    return this._getText(1);
  }
  set model(value: string) {
    this._setText(1, value);
  }
  get color(): Color {
    return this._getUint16(0) as Color;
  }
  set color(value: Color) {
    this._setUint16(0, value);
  }
  get seats(): number {
    return this._getUint8(2);
  }
  set seats(value: number) {
    this._setUint8(2, value);
  }
  get doors(): number {
    return this._getUint8(3);
  }
  set doors(value: number) {
    this._setUint8(3, value);
  }
  get wheels(): $.StructListBuilder<Wheel_Builder> {
    return this._getList(2, $.StructListBuilder.of(Wheel_Builder));
  }
  initWheels(length: number): $.StructListBuilder<Wheel_Builder> {
    return this._initList(2, $.StructListBuilder.of(Wheel_Builder), length);
  }
  get length(): number {
    return this._getUint16(4);
  }
  set length(value: number) {
    this._setUint16(4, value);
  }
  get width(): number {
    return this._getUint16(6);
  }
  set width(value: number) {
    this._setUint16(6, value);
  }
  get height(): number {
    return this._getUint16(8);
  }
  set height(value: number) {
    this._setUint16(8, value);
  }
  get weight(): number {
    return this._getUint32(12);
  }
  set weight(value: number) {
    this._setUint32(12, value);
  }
  get engine(): Engine_Builder {
    return this._getStruct(3, Engine_Builder);
  }
  initEngine(): Engine_Builder {
    return this._initStruct(3, Engine_Builder);
  }
  get fuelCapacity(): number {
    return this._getFloat32(16);
  }
  set fuelCapacity(value: number) {
    this._setFloat32(16, value);
  }
  get fuelLevel(): number {
    return this._getFloat32(20);
  }
  set fuelLevel(value: number) {
    this._setFloat32(20, value);
  }
  get hasPowerWindows(): boolean {
    return this._getBool(80);
  }
  set hasPowerWindows(value: boolean) {
    this._setBool(80, value);
  }
  get hasPowerSteering(): boolean {
    return this._getBool(81);
  }
  set hasPowerSteering(value: boolean) {
    this._setBool(81, value);
  }
  get hasCruiseControl(): boolean {
    return this._getBool(82);
  }
  set hasCruiseControl(value: boolean) {
    this._setBool(82, value);
  }
  get cupHolders(): number {
    return this._getUint8(11);
  }
  set cupHolders(value: number) {
    this._setUint8(11, value);
  }
  get hasNavSystem(): boolean {
    return this._getBool(83);
  }
  set hasNavSystem(value: boolean) {
    this._setBool(83, value);
  }
  asReader(): Car_Reader {
    return this._asReader(Car_Reader);
  }
}

export class Wheel_Reader extends $.StructReader {
  get diameter(): number {
    return this._getUint16(0);
  }
  get airPressure(): number {
    return this._getFloat32(4);
  }
  get snowTires(): boolean {
    return this._getBool(16);
  }
}
export class Wheel_Builder extends $.StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 0;
  get diameter(): number {
    return this._getUint16(0);
  }
  set diameter(value: number) {
    this._setUint16(0, value);
  }
  get airPressure(): number {
    return this._getFloat32(4);
  }
  set airPressure(value: number) {
    this._setFloat32(4, value);
  }
  get snowTires(): boolean {
    return this._getBool(16);
  }
  set snowTires(value: boolean) {
    this._setBool(16, value);
  }
  asReader(): Wheel_Reader {
    return this._asReader(Wheel_Reader);
  }
}

export class Engine_Reader extends $.StructReader {
  get horsepower(): number {
    return this._getUint16(0);
  }
  get cylinders(): number {
    return this._getUint8(2);
  }
  get cc(): number {
    return this._getUint32(4);
  }
  get usesGas(): boolean {
    return this._getBool(24);
  }
  get usesElectric(): boolean {
    return this._getBool(25);
  }
}
export class Engine_Builder extends $.StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 0;
  get horsepower(): number {
    return this._getUint16(0);
  }
  set horsepower(value: number) {
    this._setUint16(0, value);
  }
  get cylinders(): number {
    return this._getUint8(2);
  }
  set cylinders(value: number) {
    this._setUint8(2, value);
  }
  get cc(): number {
    return this._getUint32(4);
  }
  set cc(value: number) {
    this._setUint32(4, value);
  }
  get usesGas(): boolean {
    return this._getBool(24);
  }
  set usesGas(value: boolean) {
    this._setBool(24, value);
  }
  get usesElectric(): boolean {
    return this._getBool(25);
  }
  set usesElectric(value: boolean) {
    this._setBool(25, value);
  }
  asReader(): Engine_Reader {
    return this._asReader(Engine_Reader);
  }
}
