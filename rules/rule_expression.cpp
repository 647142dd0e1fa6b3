#include "rules/rule_expression.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <muParser.h>

#include "rules/metric_names.hpp"

namespace vigil {

struct rule_expression::impl {
  mu::Parser parser;
  std::map<std::string, double, std::less<>> values;
  std::vector<std::string> used;
};

rule_expression::rule_expression() : impl_(std::make_unique<impl>()) {}
rule_expression::~rule_expression() = default;

std::unique_ptr<rule_expression> rule_expression::compile(std::string_view text, std::string& error,
                                                         const std::vector<std::string>& metrics) {
  std::unique_ptr<rule_expression> e(new rule_expression);
  const auto& names = metrics.empty() ? window_metric_names() : metrics;
  try {
    for (const auto& name : names) {
      double& slot = e->impl_->values[name];
      e->impl_->parser.DefineVar(name, &slot);
    }
    e->impl_->parser.SetExpr(std::string(text));
    e->impl_->parser.Eval();  // parses now, so errors surface at load time
    for (const auto& [name, slot] : e->impl_->parser.GetUsedVar()) e->impl_->used.push_back(name);
  } catch (const mu::Parser::exception_type& ex) {
    const std::string token = ex.GetToken();
    const bool identifier =
      !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
    if (ex.GetCode() == mu::ecUNASSIGNABLE_TOKEN && identifier)
    {
      std::string known = "requests, error_rate, status_404, latency_p99, probes, ...";
      if (!metrics.empty()) {
        known.clear();
        for (size_t i = 0; i < metrics.size(); ++i) known += (i ? ", " : "") + metrics[i];
      }
      error = "unknown metric '" + ex.GetToken() + "' at position " + std::to_string(ex.GetPos() + 1) + " (metrics: "
              + known + ")";
    }
    else
      error = "syntax error at position " + std::to_string(ex.GetPos() + 1) + ": " + ex.GetMsg();
    return nullptr;
  }
  return e;
}

double* rule_expression::metric(std::string_view name) {
  auto it = impl_->values.find(name);
  return it == impl_->values.end() ? nullptr : &it->second;
}

const std::vector<std::string>& rule_expression::used_metrics() const noexcept { return impl_->used; }

bool rule_expression::holds() {
  try {
    return impl_->parser.Eval() != 0.0;
  } catch (const mu::Parser::exception_type&) {
    return false;  // compiled at load time: only a numeric edge case lands here
  }
}

} // namespace vigil
