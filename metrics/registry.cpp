#include "metrics/registry.hpp"

#include <cmath>
#include <sstream>

namespace vigil {

void metrics_registry::describe(const std::string& name, kind k, const std::string& help) {
  std::lock_guard<std::mutex> guard(lock_);
  auto& f = families_[name];
  f.type = k;
  f.help = help;
}

void metrics_registry::set(const std::string& name, const labels& l, double value) {
  std::lock_guard<std::mutex> guard(lock_);
  families_[name].series[label_text(l)] = value;
}

void metrics_registry::add(const std::string& name, const labels& l, double delta) {
  std::lock_guard<std::mutex> guard(lock_);
  families_[name].series[label_text(l)] += delta;
}

void metrics_registry::set_histogram(const std::string& name, const labels& l, const std::vector<double>& bounds,
                                     const std::vector<uint64_t>& cumulative, uint64_t count, double sum) {
  std::vector<std::pair<std::string, double>> lines;
  for (size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    labels with_le = l;
    with_le.emplace_back("le", number_text(bounds[i]));
    lines.emplace_back("_bucket" + label_text(with_le), static_cast<double>(cumulative[i]));
  }
  labels inf = l;
  inf.emplace_back("le", "+Inf");
  lines.emplace_back("_bucket" + label_text(inf), static_cast<double>(count));
  lines.emplace_back("_sum" + label_text(l), sum);
  lines.emplace_back("_count" + label_text(l), static_cast<double>(count));
  std::lock_guard<std::mutex> guard(lock_);
  families_[name].histograms[label_text(l)] = std::move(lines);
}

void metrics_registry::write_number(std::ostream& out, double value) {
  if (std::floor(value) == value && std::fabs(value) < 1e15) out << static_cast<long long>(value);
  else out << value;
}

std::string metrics_registry::number_text(double value) {
  std::ostringstream out;
  write_number(out, value);
  return out.str();
}

void metrics_registry::on_render(std::function<void(metrics_registry&)> hook) {
  std::lock_guard<std::mutex> guard(lock_);
  hooks_.push_back(std::move(hook));
}

std::string metrics_registry::label_text(const labels& l) {
  if (l.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < l.size(); ++i) {
    if (i > 0) out += ',';
    out += l[i].first + "=\"";
    for (char c : l[i].second) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string metrics_registry::render() {
  std::vector<std::function<void(metrics_registry&)>> hooks;
  {
    std::lock_guard<std::mutex> guard(lock_);
    hooks = hooks_;
  }
  for (auto& h : hooks) h(*this);
  std::lock_guard<std::mutex> guard(lock_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    out << "# HELP " << name << ' ' << f.help << '\n';
    out << "# TYPE " << name << ' '
        << (f.type == kind::counter ? "counter" : f.type == kind::histogram ? "histogram" : "gauge") << '\n';
    for (const auto& [l, value] : f.series) {
      out << name << l << ' ';
      write_number(out, value);
      out << '\n';
    }
    for (const auto& [l, lines] : f.histograms)
      for (const auto& [suffix, value] : lines) {
        out << name << suffix << ' ';
        write_number(out, value);
        out << '\n';
      }
  }
  return out.str();
}

} // namespace vigil
