// serialization-read: the C++ side of the serialization benchmark against C++ (issue 7: capnts
// read-only "within 5x of C++"). Driven by bench/cpp-serialization/main.ts, which writes the
// very messages capnts's cases use, so both sides work on the same bytes and inputs.
//
//   serialization-read WORKLOAD MODE FILE...
//
// WORKLOAD is carsales, catrank or eval; each FILE holds one message in standard framing (what
// capnts's encodeFrame writes). The files are read into memory (word-aligned) once. The program
// then prints "ANSWERS a0 a1 ..." (each item's answer, computed once, for the driver to check
// against capnts's) and serves stdin lines:
//
//   batch N   N ops, cycling through the items; prints "TIME <wall ns> <cpu ns>", or
//             "WRONG <item> <answer>" and exits 1 if an op disagrees with the item's first answer.
//
// It exits 0 when stdin closes. MODE is what one op is, the same as capnts's case of that mode
// (bench/serialization/contenders/capnts.ts):
//
//   read    the read-only case: FlatArrayMessageReader over the framed words (the segment table
//           parsed, no copy), then the server's reads (carsales: every car's carValue; catrank:
//           score, snippet and URL of each result; eval: the tree evaluated).
//   bytes   a round trip with serialization: the files are the round-trip inputs, turned into
//           plain C++ values before timing (capnts's inputs are plain JS objects); one op builds
//           the request from them, serializes it (messageToFlatArray) and parses it back, the
//           server reads it and builds the response, which is serialized and parsed back, and
//           the client reads the answer (carsales: the lot's value; catrank: the results scored,
//           sorted and copied, the answer the number of leading results scoring above 1001;
//           eval: the value).

#include <capnp/serialize.h>
#include <kj/array.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "carsales.capnp.h"
#include "catrank.capnp.h"
#include "eval.capnp.h"

namespace {

using capnp::word;

// ---- the reads (same arithmetic as bench/serialization/data.ts and the capnts contender) ------

// The C++ suite's carValue (c++/src/capnp/benchmark/carsales.c++).
uint64_t carValue(Car::Reader car) {
  uint64_t result = 0;
  result += car.getSeats() * 200;
  result += car.getDoors() * 350;
  for (auto wheel: car.getWheels()) {
    result += wheel.getDiameter() * wheel.getDiameter();
    result += wheel.getSnowTires() ? 100 : 0;
  }
  result += car.getLength() * car.getWidth() * car.getHeight() / 50;
  auto engine = car.getEngine();
  result += engine.getHorsepower() * 40;
  if (engine.getUsesElectric()) result += engine.getUsesGas() ? 5000 : 3000;
  result += car.getHasPowerWindows() ? 100 : 0;
  result += car.getHasPowerSteering() ? 200 : 0;
  result += car.getHasCruiseControl() ? 400 : 0;
  result += car.getHasNavSystem() ? 2000 : 0;
  result += car.getCupHolders() * 25;
  return result;
}

int64_t readCarsales(capnp::MessageReader& message) {
  uint64_t total = 0;
  for (auto car: message.getRoot<ParkingLot>().getCars()) total += carValue(car);
  return static_cast<int64_t>(total);
}

// The server's read half of catrank (the C++ suite's scoring: strstr on the snippet), and the
// answer bench/serialization/data.ts's catrankReadAnswer computes: good count * 1e6 + URL chars.
int64_t readCatrank(capnp::MessageReader& message) {
  int64_t good = 0;
  int64_t urlChars = 0;
  for (auto result: message.getRoot<SearchResultList>().getResults()) {
    double score = result.getScore();
    const char* snippet = result.getSnippet().cStr();
    if (strstr(snippet, " cat ") != nullptr) score *= 10000;
    if (strstr(snippet, " dog ") != nullptr) score /= 10000;
    if (score > 1001) ++good;
    urlChars += result.getUrl().size();
  }
  return good * 1000000 + urlChars;
}

// Int32 arithmetic as the C++ suite does it, with wrapping made explicit (signed overflow is
// undefined in C++; JS's `| 0` and Math.imul wrap).
int32_t wrap(uint32_t x) { return static_cast<int32_t>(x); }

int32_t evaluate(Expression::Reader e) {
  int32_t l = 0;
  int32_t r = 0;
  auto left = e.getLeft();
  switch (left.which()) {
    case Expression::Left::VALUE: l = left.getValue(); break;
    case Expression::Left::EXPRESSION: l = evaluate(left.getExpression()); break;
  }
  auto right = e.getRight();
  switch (right.which()) {
    case Expression::Right::VALUE: r = right.getValue(); break;
    case Expression::Right::EXPRESSION: r = evaluate(right.getExpression()); break;
  }
  switch (e.getOp()) {
    case Operation::ADD: return wrap(static_cast<uint32_t>(l) + static_cast<uint32_t>(r));
    case Operation::SUBTRACT: return wrap(static_cast<uint32_t>(l) - static_cast<uint32_t>(r));
    case Operation::MULTIPLY: return wrap(static_cast<uint32_t>(l) * static_cast<uint32_t>(r));
    case Operation::DIVIDE:
      if (r == 0 || (l == INT32_MIN && r == -1)) return INT32_MAX;
      return l / r;
    case Operation::MODULUS:
      if (r == 0 || (l == INT32_MIN && r == -1)) return INT32_MAX;
      return l % r;
  }
  return 0;
}

int64_t readEval(capnp::MessageReader& message) {
  return evaluate(message.getRoot<Expression>());
}

// ---- bytes mode: plain inputs and round trips ----------------------------------------------

struct WheelIn {
  uint16_t diameter;
  float airPressure;
  bool snowTires;
};

struct EngineIn {
  uint16_t horsepower;
  uint8_t cylinders;
  uint32_t cc;
  bool usesGas;
  bool usesElectric;
};

struct CarIn {
  std::string make;
  std::string model;
  Color color;
  uint8_t seats;
  uint8_t doors;
  std::vector<WheelIn> wheels;
  uint16_t length;
  uint16_t width;
  uint16_t height;
  uint32_t weight;
  EngineIn engine;
  float fuelCapacity;
  float fuelLevel;
  bool hasPowerWindows;
  bool hasPowerSteering;
  bool hasCruiseControl;
  uint8_t cupHolders;
  bool hasNavSystem;
};

using ParkingLotIn = std::vector<CarIn>;

ParkingLotIn toPlain(ParkingLot::Reader lot) {
  ParkingLotIn out;
  for (auto c: lot.getCars()) {
    CarIn car;
    car.make = c.getMake().cStr();
    car.model = c.getModel().cStr();
    car.color = c.getColor();
    car.seats = c.getSeats();
    car.doors = c.getDoors();
    for (auto w: c.getWheels()) car.wheels.push_back({w.getDiameter(), w.getAirPressure(), w.getSnowTires()});
    car.length = c.getLength();
    car.width = c.getWidth();
    car.height = c.getHeight();
    car.weight = c.getWeight();
    auto e = c.getEngine();
    car.engine = {e.getHorsepower(), e.getCylinders(), e.getCc(), e.getUsesGas(), e.getUsesElectric()};
    car.fuelCapacity = c.getFuelCapacity();
    car.fuelLevel = c.getFuelLevel();
    car.hasPowerWindows = c.getHasPowerWindows();
    car.hasPowerSteering = c.getHasPowerSteering();
    car.hasCruiseControl = c.getHasCruiseControl();
    car.cupHolders = c.getCupHolders();
    car.hasNavSystem = c.getHasNavSystem();
    out.push_back(std::move(car));
  }
  return out;
}

void buildLot(ParkingLot::Builder lot, const ParkingLotIn& in) {
  auto cars = lot.initCars(in.size());
  for (size_t i = 0; i < in.size(); i++) {
    const CarIn& c = in[i];
    auto car = cars[i];
    car.setMake(capnp::Text::Reader(c.make.data(), c.make.size()));
    car.setModel(capnp::Text::Reader(c.model.data(), c.model.size()));
    car.setColor(c.color);
    car.setSeats(c.seats);
    car.setDoors(c.doors);
    auto wheels = car.initWheels(c.wheels.size());
    for (size_t j = 0; j < c.wheels.size(); j++) {
      auto wheel = wheels[j];
      wheel.setDiameter(c.wheels[j].diameter);
      wheel.setAirPressure(c.wheels[j].airPressure);
      wheel.setSnowTires(c.wheels[j].snowTires);
    }
    car.setLength(c.length);
    car.setWidth(c.width);
    car.setHeight(c.height);
    car.setWeight(c.weight);
    auto engine = car.initEngine();
    engine.setHorsepower(c.engine.horsepower);
    engine.setCylinders(c.engine.cylinders);
    engine.setCc(c.engine.cc);
    engine.setUsesGas(c.engine.usesGas);
    engine.setUsesElectric(c.engine.usesElectric);
    car.setFuelCapacity(c.fuelCapacity);
    car.setFuelLevel(c.fuelLevel);
    car.setHasPowerWindows(c.hasPowerWindows);
    car.setHasPowerSteering(c.hasPowerSteering);
    car.setHasCruiseControl(c.hasCruiseControl);
    car.setCupHolders(c.cupHolders);
    car.setHasNavSystem(c.hasNavSystem);
  }
}

/** A message serialized to a flat array of words (standard framing) and parsed back. */
struct ViaBytes {
  explicit ViaBytes(capnp::MessageBuilder& builder): words(capnp::messageToFlatArray(builder)), reader(words) {}
  kj::Array<word> words;
  capnp::FlatArrayMessageReader reader;
};

int64_t carsalesRoundTrip(const ParkingLotIn& in) {
  capnp::MallocMessageBuilder request;
  buildLot(request.initRoot<ParkingLot>(), in);
  ViaBytes requestBytes(request);
  capnp::MallocMessageBuilder response;
  response.initRoot<TotalValue>().setAmount(static_cast<uint64_t>(readCarsales(requestBytes.reader)));
  ViaBytes responseBytes(response);
  return static_cast<int64_t>(responseBytes.reader.getRoot<TotalValue>().getAmount());
}

struct SearchResultIn {
  std::string url;
  double score;
  std::string snippet;
};

using SearchResultListIn = std::vector<SearchResultIn>;

SearchResultListIn toPlain(SearchResultList::Reader list) {
  SearchResultListIn out;
  for (auto r: list.getResults()) out.push_back({r.getUrl().cStr(), r.getScore(), r.getSnippet().cStr()});
  return out;
}

struct ScoredResult {
  double score;
  SearchResult::Reader result;
};

int64_t catrankRoundTrip(const SearchResultListIn& in) {
  capnp::MallocMessageBuilder request;
  auto requestList = request.initRoot<SearchResultList>().initResults(in.size());
  for (size_t i = 0; i < in.size(); i++) {
    auto r = requestList[i];
    r.setScore(in[i].score);
    r.setUrl(capnp::Text::Reader(in[i].url.data(), in[i].url.size()));
    r.setSnippet(capnp::Text::Reader(in[i].snippet.data(), in[i].snippet.size()));
  }
  ViaBytes requestBytes(request);

  // The server (the C++ suite's): score, sort by score (highest first), copy into the response.
  auto results = requestBytes.reader.getRoot<SearchResultList>().getResults();
  std::vector<ScoredResult> scored;
  scored.reserve(results.size());
  for (auto r: results) {
    double score = r.getScore();
    const char* snippet = r.getSnippet().cStr();
    if (strstr(snippet, " cat ") != nullptr) score *= 10000;
    if (strstr(snippet, " dog ") != nullptr) score /= 10000;
    scored.push_back({score, r});
  }
  std::sort(scored.begin(), scored.end(),
            [](const ScoredResult& a, const ScoredResult& b) { return a.score > b.score; });
  capnp::MallocMessageBuilder response;
  auto responseList = response.initRoot<SearchResultList>().initResults(scored.size());
  for (size_t i = 0; i < scored.size(); i++) {
    auto o = responseList[i];
    o.setScore(scored[i].score);
    o.setUrl(scored[i].result.getUrl());
    o.setSnippet(scored[i].result.getSnippet());
  }
  ViaBytes responseBytes(response);

  // The client's check: the leading results that scored above 1001.
  int64_t good = 0;
  for (auto r: responseBytes.reader.getRoot<SearchResultList>().getResults()) {
    if (r.getScore() > 1001) ++good;
    else break;
  }
  return good;
}

struct ExpressionIn {
  Operation op;
  int32_t leftValue;
  int32_t rightValue;
  // Null when the operand is the value.
  std::unique_ptr<ExpressionIn> left;
  std::unique_ptr<ExpressionIn> right;
};

std::unique_ptr<ExpressionIn> toPlain(Expression::Reader e) {
  auto out = std::make_unique<ExpressionIn>();
  out->op = e.getOp();
  auto left = e.getLeft();
  if (left.isValue()) out->leftValue = left.getValue();
  else out->left = toPlain(left.getExpression());
  auto right = e.getRight();
  if (right.isValue()) out->rightValue = right.getValue();
  else out->right = toPlain(right.getExpression());
  return out;
}

void buildExpression(Expression::Builder b, const ExpressionIn& e) {
  b.setOp(e.op);
  if (e.left == nullptr) b.getLeft().setValue(e.leftValue);
  else buildExpression(b.getLeft().initExpression(), *e.left);
  if (e.right == nullptr) b.getRight().setValue(e.rightValue);
  else buildExpression(b.getRight().initExpression(), *e.right);
}

int64_t evalRoundTrip(const std::unique_ptr<ExpressionIn>& in) {
  capnp::MallocMessageBuilder request;
  buildExpression(request.initRoot<Expression>(), *in);
  ViaBytes requestBytes(request);
  capnp::MallocMessageBuilder response;
  response.initRoot<EvaluationResult>().setValue(evaluate(requestBytes.reader.getRoot<Expression>()));
  ViaBytes responseBytes(response);
  return responseBytes.reader.getRoot<EvaluationResult>().getValue();
}

// ---- the program --------------------------------------------------------------------------

int64_t nowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

kj::Array<word> readFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    fprintf(stderr, "serialization-read: cannot read %s\n", path);
    exit(2);
  }
  if (bytes.size() % sizeof(word) != 0) {
    fprintf(stderr, "serialization-read: %s is not a whole number of words\n", path);
    exit(2);
  }
  // A fresh word array: FlatArrayMessageReader needs word alignment.
  auto words = kj::heapArray<word>(bytes.size() / sizeof(word));
  memcpy(words.begin(), bytes.data(), bytes.size());
  return words;
}

// Prints the answers, then serves "batch N" requests; `op(k)` is one op on item k.
template <typename Op>
int serve(Op op, size_t items) {
  std::vector<int64_t> answers;
  printf("ANSWERS");
  for (size_t k = 0; k < items; k++) {
    answers.push_back(op(k));
    printf(" %lld", static_cast<long long>(answers.back()));
  }
  printf("\n");
  fflush(stdout);

  size_t cursor = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.rfind("batch ", 0) != 0) {
      fprintf(stderr, "serialization-read: unknown command: %s\n", line.c_str());
      return 2;
    }
    long long n = std::stoll(line.substr(6));
    int64_t wall0 = nowNs(CLOCK_MONOTONIC);
    int64_t cpu0 = nowNs(CLOCK_PROCESS_CPUTIME_ID);
    // Every answer is compared, like the TS harness does: the work cannot be optimized away.
    for (long long i = 0; i < n; i++) {
      int64_t got = op(cursor);
      if (got != answers[cursor]) {
        printf("WRONG %zu %lld\n", cursor, static_cast<long long>(got));
        fflush(stdout);
        return 1;
      }
      if (++cursor == items) cursor = 0;
    }
    int64_t cpu = nowNs(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    int64_t wall = nowNs(CLOCK_MONOTONIC) - wall0;
    printf("TIME %lld %lld\n", static_cast<long long>(wall), static_cast<long long>(cpu));
    fflush(stdout);
  }
  return 0;
}

// Read mode: `read` parses message k and does the server's reads.
template <typename Read>
int serveReads(Read read, const std::vector<kj::Array<word>>& messages) {
  return serve(
      [&](size_t k) {
        capnp::FlatArrayMessageReader reader(messages[k]);
        return read(reader);
      },
      messages.size());
}

// Bytes mode: each message turned into a plain input once, then `roundTrip` of input k per op.
template <typename Root, typename RoundTrip>
int serveRoundTrips(RoundTrip roundTrip, const std::vector<kj::Array<word>>& messages) {
  using In = decltype(toPlain(std::declval<typename Root::Reader>()));
  std::vector<In> inputs;
  for (auto& m: messages) {
    capnp::FlatArrayMessageReader reader(m);
    inputs.push_back(toPlain(reader.getRoot<Root>()));
  }
  return serve([&](size_t k) { return roundTrip(inputs[k]); }, inputs.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: serialization-read carsales|catrank|eval read|bytes FILE...\n");
    return 2;
  }
  std::vector<kj::Array<word>> messages;
  for (int i = 3; i < argc; i++) messages.push_back(readFile(argv[i]));
  std::string workload = argv[1];
  std::string mode = argv[2];
  // Lambdas, not function pointers: each serve() instance can inline its op.
  if (mode == "read") {
    if (workload == "carsales") return serveReads([](auto& m) { return readCarsales(m); }, messages);
    if (workload == "catrank") return serveReads([](auto& m) { return readCatrank(m); }, messages);
    if (workload == "eval") return serveReads([](auto& m) { return readEval(m); }, messages);
  } else if (mode == "bytes") {
    if (workload == "carsales")
      return serveRoundTrips<ParkingLot>([](auto& in) { return carsalesRoundTrip(in); }, messages);
    if (workload == "catrank")
      return serveRoundTrips<SearchResultList>([](auto& in) { return catrankRoundTrip(in); }, messages);
    if (workload == "eval")
      return serveRoundTrips<Expression>([](auto& in) { return evalRoundTrip(in); }, messages);
  } else {
    fprintf(stderr, "serialization-read: unknown mode %s\n", argv[2]);
    return 2;
  }
  fprintf(stderr, "serialization-read: unknown workload %s\n", argv[1]);
  return 2;
}
