// calculator-server: serves the Calculator of examples/calculator/calculator.capnp, behaving like
// the calculator server of Cap'n Proto's C++ samples: evaluate() returns a Value capability,
// expressions may read earlier Values, call Functions (the server's own, from defFunction or
// getOperator, or the client's), and reading a function's parameters.
//
//   calculator-server --listen tcp:127.0.0.1:0 | --listen unix:/path [--timeout-ms 60000]
//                     [--ignore-stdin]
//
// Prints "LISTENING <address>" once ready; exits when stdin closes; exits 124 after the timeout.

#include "calculator.capnp.h"
#include "common.h"

#include <capnp/message.h>
#include <kj/debug.h>

namespace capnts_fixture {
namespace {

using capnts::calculator::Calculator;

const char USAGE[] =
    "usage: calculator-server --listen ADDRESS [--timeout-ms N] [--ignore-stdin]\n"
    "  ADDRESS: tcp:HOST:PORT (port 0 = any), HOST:PORT or unix:PATH\n"
    "  Prints 'LISTENING <address>' when ready; exits when stdin closes (unless --ignore-stdin)\n"
    "  or with status 124 after --timeout-ms (default 60000; 0 = never).\n";

kj::Promise<double> readValue(Calculator::Value::Client value) {
  return value.readRequest().send().then(
      [](capnp::Response<Calculator::Value::ReadResults>&& r) { return r.getValue(); });
}

// Evaluates `expression`, whose parameter references index `params`. Everything the expression
// holds is read before this returns, so the readers need to live only that long; the promise
// holds copies of the capabilities it still has to call.
kj::Promise<double> evaluateExpression(Calculator::Expression::Reader expression,
                                       capnp::List<double>::Reader params) {
  switch (expression.which()) {
    case Calculator::Expression::LITERAL:
      return expression.getLiteral();
    case Calculator::Expression::PREVIOUS_RESULT:
      return readValue(expression.getPreviousResult());
    case Calculator::Expression::PARAMETER: {
      auto index = expression.getParameter();
      KJ_REQUIRE(index < params.size(), "parameter index out of range", index, params.size());
      return params[index];
    }
    case Calculator::Expression::CALL: {
      auto call = expression.getCall();
      auto func = call.getFunction();
      auto argPromises = kj::heapArrayBuilder<kj::Promise<double>>(call.getParams().size());
      for (auto arg: call.getParams()) argPromises.add(evaluateExpression(arg, params));
      return kj::joinPromises(argPromises.finish())
          .then([func = kj::mv(func)](kj::Array<double>&& args) mutable {
            auto request = func.callRequest();
            request.setParams(args);
            return request.send().then(
                [](capnp::Response<Calculator::Function::CallResults>&& r) { return r.getValue(); });
          });
    }
  }
  KJ_FAIL_REQUIRE("unknown expression type");
}

class ValueImpl final: public Calculator::Value::Server {
public:
  explicit ValueImpl(double value): value(value) {}

protected:
  kj::Promise<void> read(ReadContext context) override {
    context.getResults().setValue(value);
    return kj::READY_NOW;
  }

private:
  double value;
};

class FunctionImpl final: public Calculator::Function::Server {
  // A function defined by defFunction(): its body is copied into our own message.
public:
  FunctionImpl(uint32_t paramCount, Calculator::Expression::Reader body): paramCount(paramCount) {
    this->body.setRoot(body);
  }

protected:
  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams().getParams();
    KJ_REQUIRE(params.size() == paramCount, "wrong number of parameters", params.size(),
               paramCount);
    return evaluateExpression(body.getRoot<Calculator::Expression>(), params)
        .then([context](double value) mutable { context.getResults().setValue(value); });
  }

private:
  uint32_t paramCount;
  capnp::MallocMessageBuilder body;
};

class OperatorImpl final: public Calculator::Function::Server {
public:
  explicit OperatorImpl(Calculator::Operator op): op(op) {}

protected:
  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams().getParams();
    KJ_REQUIRE(params.size() == 2, "operators take two parameters", params.size());
    double result = 0;
    switch (op) {
      case Calculator::Operator::ADD: result = params[0] + params[1]; break;
      case Calculator::Operator::SUBTRACT: result = params[0] - params[1]; break;
      case Calculator::Operator::MULTIPLY: result = params[0] * params[1]; break;
      case Calculator::Operator::DIVIDE: result = params[0] / params[1]; break;
      default: KJ_FAIL_REQUIRE("unknown operator");
    }
    context.getResults().setValue(result);
    return kj::READY_NOW;
  }

private:
  Calculator::Operator op;
};

class CalculatorImpl final: public Calculator::Server {
protected:
  kj::Promise<void> evaluate(EvaluateContext context) override {
    return evaluateExpression(context.getParams().getExpression(), capnp::List<double>::Reader())
        .then([context](double value) mutable {
          context.getResults().setValue(kj::heap<ValueImpl>(value));
        });
  }

  kj::Promise<void> defFunction(DefFunctionContext context) override {
    auto params = context.getParams();
    KJ_REQUIRE(params.getParamCount() >= 0, "negative parameter count");
    context.getResults().setFunc(kj::heap<FunctionImpl>(params.getParamCount(), params.getBody()));
    return kj::READY_NOW;
  }

  kj::Promise<void> getOperator(GetOperatorContext context) override {
    context.getResults().setFunc(kj::heap<OperatorImpl>(context.getParams().getOp()));
    return kj::READY_NOW;
  }
};

}  // namespace
}  // namespace capnts_fixture

int main(int argc, char** argv) {
  using namespace capnts_fixture;
  return runServerMain(argc, argv, USAGE, 60000, /* withTraceEncoder = */ false,
                       [](kj::AsyncIoContext&) -> BootstrapMaker {
                         return [](ServerConnection&, capnp::rpc::twoparty::VatId::Reader)
                                    -> capnp::Capability::Client {
                           return kj::heap<CalculatorImpl>();
                         };
                       });
}
