# capnts serialization benchmark "catrank" (issue 7): a list of search results, each a URL, a
# score and a text snippet. The server scores the results (cats up, dogs down), sorts them and
# returns them, copying the text; text-heavy, unlike carsales. Modelled on the workload of the
# same name in the C++ benchmark suite.

@0xbccd4ad59b8cec12;

struct SearchResultList {
  results @0 :List(SearchResult);
}

struct SearchResult {
  url @0 :Text;
  score @1 :Float64;
  snippet @2 :Text;
}
