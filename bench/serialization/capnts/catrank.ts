// Typed accessors for bench/schema/catrank.capnp, written by hand in the shape the capnts code
// generator emits (see carsales.ts in this folder). TODO: replace with gen/capnts/catrank.ts.
import * as $ from "../../../src/wire/index.js";

export class SearchResultList_Reader extends $.StructReader {
  get results(): $.StructList<SearchResult_Reader> {
    return this._getList(0, $.StructList.of(SearchResult_Reader));
  }
}
export class SearchResultList_Builder extends $.StructBuilder {
  static readonly _dataWords = 0;
  static readonly _ptrCount = 1;
  get results(): $.StructListBuilder<SearchResult_Builder> {
    return this._getList(0, $.StructListBuilder.of(SearchResult_Builder));
  }
  initResults(length: number): $.StructListBuilder<SearchResult_Builder> {
    return this._initList(0, $.StructListBuilder.of(SearchResult_Builder), length);
  }
  asReader(): SearchResultList_Reader {
    return this._asReader(SearchResultList_Reader);
  }
}

export class SearchResult_Reader extends $.StructReader {
  get url(): string {
    return this._getText(0);
  }
  get score(): number {
    return this._getFloat64(0);
  }
  get snippet(): string {
    return this._getText(1);
  }
}
export class SearchResult_Builder extends $.StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 2;
  get url(): string {
    return this._getText(0);
  }
  set url(value: string) {
    this._setText(0, value);
  }
  get score(): number {
    return this._getFloat64(0);
  }
  set score(value: number) {
    this._setFloat64(0, value);
  }
  get snippet(): string {
    return this._getText(1);
  }
  set snippet(value: string) {
    this._setText(1, value);
  }
  asReader(): SearchResult_Reader {
    return this._asReader(SearchResult_Reader);
  }
}
