// calculator-client: evaluates a fixed list of expressions against a Calculator
// (examples/calculator/calculator.capnp) served by calculator-server or the TypeScript demo, the
// way the calculator client of Cap'n Proto's C++ samples does: with promise pipelining, so that
// each group of calls costs one network round trip.
//
//   calculator-client --connect ADDRESS [--timeout-ms 60000] [--wait-ms 10000]
//
// Output (stdout), one line per expression, then one line per mismatch:
//   RESULT <name> <value> <roundTrips>
//   FAIL calculator <name> <detail>
// <value> is printed like JavaScript's Number#toString for the integers used here ("%.17g").
// <roundTrips> is the number of times the client waited for the network to get that value: all
// calls made before a wait travel pipelined, so each wait is one round trip. Exit status 0 only if
// every value is the expected one.

#include "calculator.capnp.h"
#include "common.h"

#include <kj/debug.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace capnts_fixture {
namespace {

using capnts::calculator::Calculator;

const char USAGE[] =
    "usage: calculator-client --connect ADDRESS [--timeout-ms N] [--wait-ms N]\n"
    "  Prints 'RESULT <name> <value> <roundTrips>' per expression and\n"
    "  'FAIL calculator <name> <detail>' per wrong value; exits 0 only if all are right.\n";

class PowFunction final: public Calculator::Function::Server {
  // A function that lives in the client; the server calls back into it.
protected:
  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams().getParams();
    KJ_REQUIRE(params.size() == 2, "pow takes two parameters");
    context.getResults().setValue(std::pow(params[0], params[1]));
    return kj::READY_NOW;
  }
};

struct Runner {
  kj::WaitScope& ws;
  kj::Timer& timer;
  long long waitMs;
  int failures = 0;

  template <typename T>
  T wait(kj::Promise<T>&& promise) {
    auto ms = waitMs;
    return promise
        .exclusiveJoin(timer.afterDelay(ms * kj::MILLISECONDS).then([ms]() -> kj::Promise<T> {
          return KJ_EXCEPTION(FAILED, "timed out", ms);
        }))
        .wait(ws);
  }

  double read(Calculator::Value::Client value) {
    return wait(value.readRequest().send()).getValue();
  }

  void report(const char* name, double value, double expected, int roundTrips) {
    printf("RESULT %s %.17g %d\n", name, value, roundTrips);
    if (value != expected) {
      printf("FAIL calculator %s expected %.17g, got %.17g\n", name, expected, value);
      ++failures;
    }
    fflush(stdout);
  }
};

// Fills `expr` with a call of `func` on literal or previous-result arguments.
void setLiteralCall(Calculator::Expression::Builder expr, Calculator::Function::Client func,
                    std::initializer_list<double> args) {
  auto call = expr.initCall();
  call.setFunction(kj::mv(func));
  auto params = call.initParams(args.size());
  unsigned i = 0;
  for (double a: args) params[i++].setLiteral(a);
}

void run(Runner& r, Calculator::Client calculator) {
  {
    // A literal; read() pipelined on evaluate()'s Value: one round trip.
    auto request = calculator.evaluateRequest();
    request.initExpression().setLiteral(123);
    auto value = request.send().getValue();
    r.report("literal", r.read(value), 123, 1);
  }
  {
    // 123 + 45, the operator fetched pipelined: one round trip.
    auto add = calculator.getOperatorRequest();
    add.setOp(Calculator::Operator::ADD);
    auto addFunc = add.send().getFunc();
    auto request = calculator.evaluateRequest();
    setLiteralCall(request.initExpression(), addFunc, {123, 45});
    r.report("add", r.read(request.send().getValue()), 168, 1);
  }
  {
    // (123 + 45) - 67 in one expression tree: one round trip.
    auto addReq = calculator.getOperatorRequest();
    addReq.setOp(Calculator::Operator::ADD);
    auto subReq = calculator.getOperatorRequest();
    subReq.setOp(Calculator::Operator::SUBTRACT);
    auto add = addReq.send().getFunc();
    auto subtract = subReq.send().getFunc();
    auto request = calculator.evaluateRequest();
    auto outer = request.initExpression().initCall();
    outer.setFunction(subtract);
    auto outerParams = outer.initParams(2);
    setLiteralCall(outerParams[0], add, {123, 45});
    outerParams[1].setLiteral(67);
    r.report("nested", r.read(request.send().getValue()), 101, 1);
  }
  {
    // 4 * 6 evaluated once, its Value used by two more evaluations (+ 3, * 5), both read in the
    // same round trip.
    auto mulReq = calculator.getOperatorRequest();
    mulReq.setOp(Calculator::Operator::MULTIPLY);
    auto addReq = calculator.getOperatorRequest();
    addReq.setOp(Calculator::Operator::ADD);
    auto multiply = mulReq.send().getFunc();
    auto add = addReq.send().getFunc();

    auto first = calculator.evaluateRequest();
    setLiteralCall(first.initExpression(), multiply, {4, 6});
    auto product = first.send().getValue();

    auto plus = calculator.evaluateRequest();
    {
      auto call = plus.initExpression().initCall();
      call.setFunction(add);
      auto params = call.initParams(2);
      params[0].setPreviousResult(product);
      params[1].setLiteral(3);
    }
    auto times = calculator.evaluateRequest();
    {
      auto call = times.initExpression().initCall();
      call.setFunction(multiply);
      auto params = call.initParams(2);
      params[0].setPreviousResult(product);
      params[1].setLiteral(5);
    }
    auto plusRead = plus.send().getValue().readRequest().send();
    auto timesRead = times.send().getValue().readRequest().send();
    double a = r.wait(kj::mv(plusRead)).getValue();
    double b = r.wait(kj::mv(timesRead)).getValue();  // already here: same round trip
    r.report("previous-result-plus", a, 27, 1);
    r.report("previous-result-times", b, 120, 1);
  }
  {
    // f(x, y) = x * 100 + y; g(x) = f(x, x + 1) * 2; evaluate f(12, 34) and g(21), all pipelined.
    auto mulReq = calculator.getOperatorRequest();
    mulReq.setOp(Calculator::Operator::MULTIPLY);
    auto addReq = calculator.getOperatorRequest();
    addReq.setOp(Calculator::Operator::ADD);
    auto multiply = mulReq.send().getFunc();
    auto add = addReq.send().getFunc();

    auto fReq = calculator.defFunctionRequest();
    fReq.setParamCount(2);
    {
      auto call = fReq.initBody().initCall();
      call.setFunction(add);
      auto params = call.initParams(2);
      params[1].setParameter(1);
      auto inner = params[0].initCall();
      inner.setFunction(multiply);
      auto innerParams = inner.initParams(2);
      innerParams[0].setParameter(0);
      innerParams[1].setLiteral(100);
    }
    auto f = fReq.send().getFunc();

    auto gReq = calculator.defFunctionRequest();
    gReq.setParamCount(1);
    {
      auto call = gReq.initBody().initCall();
      call.setFunction(multiply);
      auto params = call.initParams(2);
      params[1].setLiteral(2);
      auto fCall = params[0].initCall();
      fCall.setFunction(f);
      auto fParams = fCall.initParams(2);
      fParams[0].setParameter(0);
      auto plusOne = fParams[1].initCall();
      plusOne.setFunction(add);
      auto plusParams = plusOne.initParams(2);
      plusParams[0].setParameter(0);
      plusParams[1].setLiteral(1);
    }
    auto g = gReq.send().getFunc();

    auto fEval = calculator.evaluateRequest();
    setLiteralCall(fEval.initExpression(), f, {12, 34});
    auto gEval = calculator.evaluateRequest();
    setLiteralCall(gEval.initExpression(), g, {21});
    auto fRead = fEval.send().getValue().readRequest().send();
    auto gRead = gEval.send().getValue().readRequest().send();
    double fv = r.wait(kj::mv(fRead)).getValue();
    double gv = r.wait(kj::mv(gRead)).getValue();
    r.report("def-function-f", fv, 1234, 1);
    r.report("def-function-g", gv, 4244, 1);
  }
  {
    // A function in the client: the server calls back into it. 2 ^ (4 + 3).
    auto addReq = calculator.getOperatorRequest();
    addReq.setOp(Calculator::Operator::ADD);
    auto add = addReq.send().getFunc();
    auto request = calculator.evaluateRequest();
    auto call = request.initExpression().initCall();
    call.setFunction(kj::heap<PowFunction>());
    auto params = call.initParams(2);
    params[0].setLiteral(2);
    setLiteralCall(params[1], add, {4, 3});
    r.report("client-function", r.read(request.send().getValue()), 128, 1);
  }
  {
    // The same as "nested", but awaiting every step: four round trips instead of one.
    auto addReq = calculator.getOperatorRequest();
    addReq.setOp(Calculator::Operator::ADD);
    auto add = r.wait(addReq.send()).getFunc();
    auto subReq = calculator.getOperatorRequest();
    subReq.setOp(Calculator::Operator::SUBTRACT);
    auto subtract = r.wait(subReq.send()).getFunc();
    auto first = calculator.evaluateRequest();
    setLiteralCall(first.initExpression(), add, {123, 45});
    double sum = r.read(r.wait(first.send()).getValue());  // evaluate, then read: 2 waits
    auto second = calculator.evaluateRequest();
    setLiteralCall(second.initExpression(), subtract, {sum, 67});
    auto value = second.send().getValue();
    r.report("nested-awaited", r.read(value), 101, 5);
  }
}

}  // namespace
}  // namespace capnts_fixture

int main(int argc, char** argv) {
  using namespace capnts_fixture;
  Args args = parseArgs(argc, argv, {"help"});
  if (args.has("help")) {
    fputs(USAGE, stdout);
    return 0;
  }
  if (!args.has("connect")) usageError(args.program, "--connect is required", USAGE);
  installHardTimeout(args.program.c_str(), args.getInt("timeout-ms", 60000));
  Endpoint ep;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { ep = parseEndpoint(args.get("connect")); })) {
    usageError(args.program, e->getDescription().cStr(), USAGE);
  }

  auto io = kj::setupAsyncIo();
  Runner runner{io.waitScope, io.provider->getTimer(), args.getInt("wait-ms", 10000)};
  int status = 0;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
        auto stream = runner.wait(connectTo(io, ep));
        capnp::TwoPartyClient client(*stream);
        run(runner, client.bootstrap().castAs<Calculator>());
      })) {
    printf("FAIL calculator exception %s\n", describe(*e).c_str());
    status = 1;
  }
  if (runner.failures > 0) status = 1;
  fflush(stdout);
  fflush(stderr);
  _exit(status);
}
