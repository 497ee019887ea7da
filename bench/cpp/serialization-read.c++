// serialization-read: the C++ side of the read-only serialization benchmark (issue 7: capnts
// read-only "within 5x of C++"). Driven by bench/cpp-serialization/main.ts, which writes the
// very messages the capnts read-only case parses, so both sides read the same bytes.
//
//   serialization-read WORKLOAD FILE...
//
// WORKLOAD is carsales, catrank or eval; each FILE holds one message in standard framing (what
// capnts's encodeFrame writes). The files are read into memory (word-aligned) once. The program
// then prints "ANSWERS a0 a1 ..." (each message's answer, computed once, for the driver to check
// against capnts's) and serves stdin lines:
//
//   batch N   N reads, cycling through the messages; prints "TIME <wall ns> <cpu ns>", or
//             "WRONG <message> <answer>" and exits 1 if a read disagrees with its first answer.
//
// It exits 0 when stdin closes. One read is what the capnts read-only case does per call:
// FlatArrayMessageReader over the framed words (the segment table parsed, no copy), then the
// server's reads (carsales: every car's carValue; catrank: score, snippet and URL of each result;
// eval: the tree evaluated).

#include <capnp/serialize.h>
#include <kj/array.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
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

template <typename Read>
int serve(Read read, const std::vector<kj::Array<word>>& messages) {
  std::vector<int64_t> answers;
  printf("ANSWERS");
  for (auto& m: messages) {
    capnp::FlatArrayMessageReader reader(m);
    answers.push_back(read(reader));
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
    // Every answer is compared, like the TS harness does: the reads cannot be optimized away.
    for (long long i = 0; i < n; i++) {
      capnp::FlatArrayMessageReader reader(messages[cursor]);
      int64_t got = read(reader);
      if (got != answers[cursor]) {
        printf("WRONG %zu %lld\n", cursor, static_cast<long long>(got));
        fflush(stdout);
        return 1;
      }
      if (++cursor == messages.size()) cursor = 0;
    }
    int64_t cpu = nowNs(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    int64_t wall = nowNs(CLOCK_MONOTONIC) - wall0;
    printf("TIME %lld %lld\n", static_cast<long long>(wall), static_cast<long long>(cpu));
    fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: serialization-read carsales|catrank|eval FILE...\n");
    return 2;
  }
  std::vector<kj::Array<word>> messages;
  for (int i = 2; i < argc; i++) messages.push_back(readFile(argv[i]));
  std::string workload = argv[1];
  // Lambdas, not function pointers: each serve() instance can inline its read.
  if (workload == "carsales") return serve([](auto& m) { return readCarsales(m); }, messages);
  if (workload == "catrank") return serve([](auto& m) { return readCatrank(m); }, messages);
  if (workload == "eval") return serve([](auto& m) { return readEval(m); }, messages);
  fprintf(stderr, "serialization-read: unknown workload %s\n", argv[1]);
  return 2;
}
