#include "expr/expression.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "parse/timestamp.hpp"

namespace vigil::expr {

bool value::truthy() const noexcept {
  switch (type) {
    case kind::null: return false;
    case kind::text: return !text.empty();
    default: return num != 0;
  }
}

// -- arena --

char* arena::allocate(size_t n) {
  constexpr size_t chunk_size = 4096;
  while (chunk_ < chunks_.size() && used_ + n > sizes_[chunk_]) {
    ++chunk_;
    used_ = 0;
  }
  if (chunk_ == chunks_.size()) {
    const size_t size = std::max(chunk_size, n);
    chunks_.push_back(std::make_unique<char[]>(size));
    sizes_.push_back(size);
    used_ = 0;
  }
  char* p = chunks_[chunk_].get() + used_;
  used_ += n;
  return p;
}

std::string_view arena::copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

void arena::reset() noexcept {
  chunk_ = 0;
  used_ = 0;
}

std::optional<absl::TimeZone> parse_time_zone(std::string_view z) {
  if (z == "UTC" || z == "utc" || z == "Z" || z.empty()) return absl::UTCTimeZone();
  if (z[0] == '+' || z[0] == '-') {
    std::string digits;
    for (char c : z.substr(1))
      if (c != ':') digits += c;
    if ((digits.size() != 2 && digits.size() != 4)
        || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    const int h = std::stoi(digits.substr(0, 2));
    const int m = digits.size() == 4 ? std::stoi(digits.substr(2)) : 0;
    if (h > 14 || m > 59) return std::nullopt;
    return absl::FixedTimeZone((z[0] == '-' ? -1 : 1) * (h * 3600 + m * 60));
  }
  // An IANA name: only a name tzdata has (LoadTimeZone falls back to UTC
  // and says false for one it does not).
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(z), &tz)) return std::nullopt;
  return tz;
}

namespace {

enum op : uint8_t {
  o_number, o_string, o_bool, o_null, o_var, o_neg, o_not, o_add, o_sub, o_mul, o_div, o_mod,
  o_eq, o_ne, o_lt, o_le, o_gt, o_ge, o_and, o_or, o_cond, o_func, o_taken,
};

enum fn : int {
  f_lower, f_upper, f_trim, f_concat, f_substr, f_coalesce, f_len, f_abs, f_round, f_floor, f_ceil,
  f_min, f_max, f_number, f_string, f_hour, f_day, f_weekday, f_date, f_month, f_year,
};
struct function_info {
  const char* name;
  int min_args, max_args;  // max -1: any
};
constexpr function_info functions[] = {
  {"lower", 1, 1}, {"upper", 1, 1}, {"trim", 1, 1}, {"concat", 1, -1}, {"substr", 2, 3},
  {"coalesce", 1, -1}, {"len", 1, 1}, {"abs", 1, 1}, {"round", 1, 2}, {"floor", 1, 1}, {"ceil", 1, 1},
  {"min", 2, -1}, {"max", 2, -1}, {"number", 1, 1}, {"string", 1, 1}, {"hour", 1, 1}, {"day", 1, 1},
  {"weekday", 1, 1}, {"date", 1, 1}, {"month", 1, 1}, {"year", 1, 1},
};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

} // namespace

class parser {
public:
  parser(std::string_view text, const names& n, program& out) : s_(text), names_(n), out_(out) {}

  bool run(std::string& error) {
    skip();
    int root = ternary();
    if (root >= 0) {
      skip();
      if (pos_ < s_.size()) fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    }
    if (!error_.empty()) {
      error = error_;
      return false;
    }
    out_.root_ = root;
    return true;
  }

private:
  void fail(const std::string& what, size_t at = std::string::npos, const std::string& after = "") {
    if (!error_.empty()) return;
    error_ = what + " at position " + std::to_string((at == std::string::npos ? pos_ : at) + 1) + after;
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(std::string_view tok) {
    skip();
    if (s_.substr(pos_, tok.size()) != tok) return false;
    // "=" alone is not "==", "&" alone not "&&": the caller asks for the long form.
    pos_ += tok.size();
    return true;
  }
  int add(program::node n) {
    out_.nodes_.push_back(std::move(n));
    return static_cast<int>(out_.nodes_.size() - 1);
  }
  int binary(uint8_t o, int a, int b, uint32_t begin) {
    program::node n;
    n.op = o;
    n.a = a;
    n.b = b;
    n.begin = begin;
    n.end = static_cast<uint32_t>(pos_);
    return add(std::move(n));
  }

  int ternary() {
    const uint32_t begin = static_cast<uint32_t>(pos_);
    int c = disjunction();
    if (c < 0) return -1;
    if (!eat("?")) return c;
    int a = ternary();
    if (a < 0) return -1;
    if (!eat(":")) {
      fail("expected ':' of '? :'");
      return -1;
    }
    int b = ternary();
    if (b < 0) return -1;
    program::node n;
    n.op = o_cond;
    n.a = c;
    n.b = a;
    n.c = b;
    n.begin = begin;
    n.end = static_cast<uint32_t>(pos_);
    return add(std::move(n));
  }
  int disjunction() {
    const uint32_t begin = static_cast<uint32_t>(pos_);
    int a = conjunction();
    while (a >= 0 && eat("||")) {
      int b = conjunction();
      if (b < 0) return -1;
      a = binary(o_or, a, b, begin);
    }
    return a;
  }
  int conjunction() {
    const uint32_t begin = static_cast<uint32_t>(pos_);
    int a = comparison();
    while (a >= 0 && eat("&&")) {
      int b = comparison();
      if (b < 0) return -1;
      a = binary(o_and, a, b, begin);
    }
    return a;
  }
  int comparison() {
    const uint32_t begin = static_cast<uint32_t>(pos_);
    int a = sum();
    if (a < 0) return -1;
    static constexpr std::pair<const char*, op> ops[] = {{"==", o_eq}, {"!=", o_ne}, {"<=", o_le},
                                                         {">=", o_ge}, {"<", o_lt},  {">", o_gt}};
    for (const auto& [tok, o] : ops) {
      if (!eat(tok)) continue;
      int b = sum();
      if (b < 0) return -1;
      return binary(o, a, b, begin);
    }
    skip();
    if (pos_ < s_.size() && s_[pos_] == '=') fail("'=' is not a comparison: write '=='");
    return a;
  }
  int sum() {
    const uint32_t begin = static_cast<uint32_t>(pos_);
    int a = product();
    while (a >= 0) {
      uint8_t o;
      if (eat("+")) o = o_add;
      else if (eat("-")) o = o_sub;
      else break;
      int b = product();
      if (b < 0) return -1;
      a = binary(o, a, b, begin);
    }
    return a;
  }
  int product() {
    const uint32_t begin = static_cast<uint32_t>(pos_);
    int a = unary();
    while (a >= 0) {
      uint8_t o;
      if (eat("*")) o = o_mul;
      else if (eat("/")) o = o_div;
      else if (eat("%")) o = o_mod;
      else break;
      int b = unary();
      if (b < 0) return -1;
      a = binary(o, a, b, begin);
    }
    return a;
  }
  int unary() {
    const uint32_t begin = static_cast<uint32_t>(pos_);
    skip();
    if (pos_ < s_.size() && s_[pos_] == '!' && s_.substr(pos_, 2) != "!=") {
      ++pos_;
      int a = unary();
      return a < 0 ? -1 : binary(o_not, a, -1, begin);
    }
    if (eat("-")) {
      int a = unary();
      return a < 0 ? -1 : binary(o_neg, a, -1, begin);
    }
    return primary();
  }
  int primary() {
    skip();
    const uint32_t begin = static_cast<uint32_t>(pos_);
    if (pos_ >= s_.size()) {
      fail("expression ends too early");
      return -1;
    }
    const char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      int a = ternary();
      if (a >= 0 && !eat(")")) fail("expected ')'");
      return error_.empty() ? a : -1;
    }
    if (c == '"' || c == '\'') return string_literal(c);
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      const char* start = s_.data() + pos_;
      char* end = nullptr;
      std::string copy(start, std::min<size_t>(64, s_.size() - pos_));
      double d = std::strtod(copy.c_str(), &end);
      const size_t used = static_cast<size_t>(end - copy.c_str());
      if (used == 0) {
        fail("bad number");
        return -1;
      }
      pos_ += used;
      program::node n;
      n.op = o_number;
      n.num = d;
      n.begin = begin;
      n.end = static_cast<uint32_t>(pos_);
      return add(std::move(n));
    }
    if (!ident_start(c)) {
      fail("unexpected '" + std::string(1, c) + "'");
      return -1;
    }
    size_t end = pos_;
    while (end < s_.size() && ident_char(s_[end])) ++end;
    std::string_view name = s_.substr(pos_, end - pos_);
    pos_ = end;
    skip();
    if (pos_ < s_.size() && s_[pos_] == '(') return call(name, begin);
    program::node n;
    n.begin = begin;
    n.end = static_cast<uint32_t>(end);
    if (name == "true" || name == "false") {
      n.op = o_bool;
      n.num = name == "true";
    } else if (name == "null") {
      n.op = o_null;
    } else {
      auto slot = names_.variable ? names_.variable(name) : std::nullopt;
      if (!slot) {
        fail("unknown field '" + std::string(name) + "'", begin, names_.known.empty() ? "" : " (" + names_.known + ")");
        return -1;
      }
      n.op = o_var;
      n.slot = *slot;
      n.text = std::string(name);
    }
    return add(std::move(n));
  }
  int string_literal(char quote) {
    const uint32_t begin = static_cast<uint32_t>(pos_);
    ++pos_;
    std::string text;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
        ++pos_;
        const char e = s_[pos_];
        text += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        text += s_[pos_];
      }
      ++pos_;
    }
    if (pos_ >= s_.size()) {
      fail("string not closed", begin);
      return -1;
    }
    ++pos_;
    program::node n;
    n.op = o_string;
    n.text = std::move(text);
    n.begin = begin;
    n.end = static_cast<uint32_t>(pos_);
    return add(std::move(n));
  }
  int call(std::string_view name, uint32_t begin) {
    ++pos_;  // '('
    std::vector<int> args;
    skip();
    if (pos_ < s_.size() && s_[pos_] == ')') {
      ++pos_;
    } else {
      while (true) {
        int a = ternary();
        if (a < 0) return -1;
        args.push_back(a);
        if (eat(",")) continue;
        if (eat(")")) break;
        fail("expected ',' or ')' in the arguments of " + std::string(name));
        return -1;
      }
    }
    program::node n;
    n.begin = begin;
    n.end = static_cast<uint32_t>(pos_);
    n.args = args;
    n.text = std::string(name);
    for (int f = 0; f < static_cast<int>(std::size(functions)); ++f) {
      if (name != functions[f].name) continue;
      const auto& info = functions[f];
      const int count = static_cast<int>(args.size());
      if (count < info.min_args || (info.max_args >= 0 && count > info.max_args)) {
        // min(x) of one argument is the caller's (a window's aggregate).
        if (names_.call) break;
        fail(std::string(name) + "() takes " + std::to_string(info.min_args)
               + (info.max_args == info.min_args ? "" : info.max_args < 0 ? " or more" : " to " + std::to_string(info.max_args))
               + " argument" + (info.min_args == 1 && info.max_args == 1 ? "" : "s"),
             begin);
        return -1;
      }
      n.op = o_func;
      n.slot = f;
      return add(std::move(n));
    }
    if (names_.call) {
      std::string err;
      // The node must exist (with its arguments) before the caller reads it.
      n.op = o_taken;
      int id = add(std::move(n));
      if (auto slot = names_.call(name, args, err)) {
        out_.nodes_[id].slot = *slot;
        return id;
      }
      if (!err.empty()) {
        fail(err, begin);
        return -1;
      }
    }
    std::string msg = "unknown function '" + std::string(name) + "' (functions:";
    for (const auto& f : functions) msg += std::string(" ") + f.name;
    fail(msg + ")", begin);
    return -1;
  }

  std::string_view s_;
  const names& names_;
  program& out_;
  size_t pos_ = 0;
  std::string error_;
};

std::optional<program> program::compile(std::string_view text, const names& n, std::string& error) {
  program p;
  p.source_ = std::string(text);
  p.zone_ = n.zone;
  parser ps(p.source_, n, p);
  if (!ps.run(error)) return std::nullopt;
  if (p.root_ < 0) {
    error = "empty expression";
    return std::nullopt;
  }
  return p;
}

int program::copy_into(program& out, int i) const {
  if (i < 0) return -1;
  node n = nodes_[i];
  n.a = copy_into(out, n.a);
  n.b = copy_into(out, n.b);
  n.c = copy_into(out, n.c);
  for (int& a : n.args) a = copy_into(out, a);
  out.nodes_.push_back(std::move(n));
  return static_cast<int>(out.nodes_.size() - 1);
}

program program::sub(int node) const {
  program p;
  p.source_ = text_of(node);
  p.zone_ = zone_;
  const uint32_t shift = nodes_[node].begin;
  p.root_ = copy_into(p, node);
  for (auto& n : p.nodes_) {
    n.begin -= std::min(n.begin, shift);
    n.end -= std::min(n.end, shift);
  }
  return p;
}

std::string program::text_of(int node) const {
  const auto& n = nodes_[node];
  return source_.substr(n.begin, n.end - n.begin);
}

std::optional<value> program::literal(int node) const {
  const auto& n = nodes_[node];
  if (n.op == o_number) return value::number(n.num);
  if (n.op == o_string) return value::string(n.text);
  if (n.op == o_neg && nodes_[n.a].op == o_number) return value::number(-nodes_[n.a].num);
  return std::nullopt;
}

bool program::whole_is_taken_call() const { return root_ >= 0 && nodes_[root_].op == o_taken; }

std::vector<int> program::variables() const {
  std::vector<int> out;
  for (const auto& n : nodes_)
    if (n.op == o_var && std::find(out.begin(), out.end(), n.slot) == out.end()) out.push_back(n.slot);
  return out;
}

void program::collect_free(int i, std::vector<std::string>& out) const {
  if (i < 0) return;
  const node& n = nodes_[i];
  if (n.op == o_taken) return;
  if (n.op == o_var) out.push_back(n.text);
  collect_free(n.a, out);
  collect_free(n.b, out);
  collect_free(n.c, out);
  for (int a : n.args) collect_free(a, out);
}

std::vector<std::string> program::free_variables() const {
  std::vector<std::string> out;
  collect_free(root_, out);
  return out;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Numbers print as integers when they are whole (concat(id, "-", 7) is "x-7").
std::string_view to_text(const value& v, arena& scratch) {
  switch (v.type) {
    case value::kind::text: return v.text;
    case value::kind::null: return {};
    case value::kind::boolean: return v.num != 0 ? "true" : "false";
    case value::kind::time: {
      std::string t = format_rfc3339_utc(static_cast<int64_t>(v.num));
      return scratch.copy(t);
    }
    case value::kind::number: {
      char buf[32];
      int n = (std::fabs(v.num) < 1e15 && v.num == std::floor(v.num))
                ? std::snprintf(buf, sizeof buf, "%.0f", v.num)
                : std::snprintf(buf, sizeof buf, "%.17g", v.num);
      return scratch.copy(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  return {};
}

std::optional<double> to_number(const value& v) {
  switch (v.type) {
    case value::kind::null: return std::nullopt;
    case value::kind::text: {
      std::string s(trim(v.text));
      if (s.empty()) return std::nullopt;
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size()) return std::nullopt;
      return d;
    }
    default: return v.num;
  }
}

// Three-way comparison; nullopt when the two cannot be ordered (null, or
// a string against a number that is not one).
std::optional<int> compare(const value& a, const value& b) {
  if (a.is_null() || b.is_null()) return std::nullopt;
  if (a.type == value::kind::text && b.type == value::kind::text) {
    int c = a.text.compare(b.text);
    return (c > 0) - (c < 0);
  }
  auto x = to_number(a), y = to_number(b);
  if (!x || !y) return std::nullopt;
  return (*x > *y) - (*x < *y);
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

} // namespace

value program::eval(const scope& vars, arena& scratch) const { return eval_node(root_, vars, scratch); }

value program::eval_node(int i, const scope& vars, arena& scratch) const {
  const node& n = nodes_[i];
  auto arith = [&](auto f) -> value {
    value a = eval_node(n.a, vars, scratch), b = eval_node(n.b, vars, scratch);
    auto x = to_number(a), y = to_number(b);
    if (!x || !y) return value::null();
    return value::number(f(*x, *y));
  };
  auto cmp = [&](auto test) -> value {
    auto c = compare(eval_node(n.a, vars, scratch), eval_node(n.b, vars, scratch));
    return value::boolean(c && test(*c));
  };
  switch (n.op) {
    case o_number: return value::number(n.num);
    case o_string: return value::string(n.text);
    case o_bool: return value::boolean(n.num != 0);
    case o_null: return value::null();
    case o_var:
    case o_taken: return vars.get(n.slot);
    case o_neg: {
      auto x = to_number(eval_node(n.a, vars, scratch));
      return x ? value::number(-*x) : value::null();
    }
    case o_not: return value::boolean(!eval_node(n.a, vars, scratch).truthy());
    case o_add: {
      value a = eval_node(n.a, vars, scratch), b = eval_node(n.b, vars, scratch);
      if (a.type == value::kind::text || b.type == value::kind::text) {
        auto x = to_text(a, scratch), y = to_text(b, scratch);
        char* p = scratch.allocate(x.size() + y.size());
        std::memcpy(p, x.data(), x.size());
        std::memcpy(p + x.size(), y.data(), y.size());
        return value::string({p, x.size() + y.size()});
      }
      auto x = to_number(a), y = to_number(b);
      if (!x || !y) return value::null();
      return value::number(*x + *y);
    }
    case o_sub: return arith([](double x, double y) { return x - y; });
    case o_mul: return arith([](double x, double y) { return x * y; });
    case o_div: {
      value a = eval_node(n.a, vars, scratch), b = eval_node(n.b, vars, scratch);
      auto x = to_number(a), y = to_number(b);
      if (!x || !y || *y == 0) return value::null();  // no Inf in a record or a metric
      return value::number(*x / *y);
    }
    case o_mod: {
      value a = eval_node(n.a, vars, scratch), b = eval_node(n.b, vars, scratch);
      auto x = to_number(a), y = to_number(b);
      if (!x || !y || *y == 0) return value::null();
      return value::number(std::fmod(*x, *y));
    }
    case o_eq:
    case o_ne: {
      value a = eval_node(n.a, vars, scratch), b = eval_node(n.b, vars, scratch);
      bool equal;
      if (a.is_null() || b.is_null()) equal = a.is_null() && b.is_null();
      else {
        auto c = compare(a, b);
        equal = c && *c == 0;
      }
      return value::boolean(n.op == o_eq ? equal : !equal);
    }
    case o_lt: return cmp([](int c) { return c < 0; });
    case o_le: return cmp([](int c) { return c <= 0; });
    case o_gt: return cmp([](int c) { return c > 0; });
    case o_ge: return cmp([](int c) { return c >= 0; });
    case o_and: return value::boolean(eval_node(n.a, vars, scratch).truthy() && eval_node(n.b, vars, scratch).truthy());
    case o_or: return value::boolean(eval_node(n.a, vars, scratch).truthy() || eval_node(n.b, vars, scratch).truthy());
    case o_cond: return eval_node(n.a, vars, scratch).truthy() ? eval_node(n.b, vars, scratch) : eval_node(n.c, vars, scratch);
    case o_func: break;
    default: return value::null();
  }
  auto arg = [&](size_t k) { return eval_node(n.args[k], vars, scratch); };
  auto text_map = [&](auto f) -> value {
    value a = arg(0);
    if (a.is_null()) return a;
    std::string_view s = to_text(a, scratch);
    char* p = scratch.allocate(s.size());
    for (size_t k = 0; k < s.size(); ++k) p[k] = static_cast<char>(f(static_cast<unsigned char>(s[k])));
    return value::string({p, s.size()});
  };
  auto time_part = [&](auto f) -> value {
    value a = arg(0);
    auto ms = to_number(a);
    if (!ms) return value::null();
    const int64_t unix_s = floor_div(static_cast<int64_t>(*ms), 1000);
    const int64_t local_s = unix_s + zone_.At(absl::FromUnixSeconds(unix_s)).offset;
    const int64_t days = floor_div(local_s, 86400);
    return f(days, local_s - days * 86400);
  };
  auto civil = [](int64_t days, int& y, unsigned& m, unsigned& d) {
    // Howard Hinnant's days-to-civil.
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int>(yoe + era * 400 + (m <= 2));
  };
  switch (n.slot) {
    case f_lower: return text_map([](unsigned char c) { return std::tolower(c); });
    case f_upper: return text_map([](unsigned char c) { return std::toupper(c); });
    case f_trim: {
      value a = arg(0);
      return a.is_null() ? a : value::string(trim(to_text(a, scratch)));
    }
    case f_len: {
      value a = arg(0);
      return a.is_null() ? a : value::number(static_cast<double>(to_text(a, scratch).size()));
    }
    case f_concat: {
      std::vector<std::string_view> parts;
      size_t total = 0;
      for (size_t k = 0; k < n.args.size(); ++k) {
        parts.push_back(to_text(arg(k), scratch));
        total += parts.back().size();
      }
      char* p = scratch.allocate(total);
      size_t at = 0;
      for (auto part : parts) {
        std::memcpy(p + at, part.data(), part.size());
        at += part.size();
      }
      return value::string({p, total});
    }
    case f_substr: {
      value a = arg(0);
      if (a.is_null()) return a;
      std::string_view s = to_text(a, scratch);
      auto start = to_number(arg(1));
      if (!start) return value::null();
      const size_t from = static_cast<size_t>(std::clamp<double>(*start, 0, static_cast<double>(s.size())));
      size_t count = s.size() - from;
      if (n.args.size() > 2) {
        auto len = to_number(arg(2));
        if (!len) return value::null();
        count = std::min(count, static_cast<size_t>(std::max(0.0, *len)));
      }
      return value::string(s.substr(from, count));
    }
    case f_coalesce:
      for (size_t k = 0; k < n.args.size(); ++k) {
        value v = arg(k);
        if (!v.is_null()) return v;
      }
      return value::null();
    case f_abs:
    case f_floor:
    case f_ceil:
    case f_round: {
      auto x = to_number(arg(0));
      if (!x) return value::null();
      if (n.slot == f_abs) return value::number(std::fabs(*x));
      if (n.slot == f_floor) return value::number(std::floor(*x));
      if (n.slot == f_ceil) return value::number(std::ceil(*x));
      double scale = 1;
      if (n.args.size() > 1) {
        auto digits = to_number(arg(1));
        if (!digits) return value::null();
        scale = std::pow(10.0, std::clamp(*digits, 0.0, 15.0));
      }
      return value::number(std::round(*x * scale) / scale);
    }
    case f_min:
    case f_max: {
      std::optional<double> best;
      for (size_t k = 0; k < n.args.size(); ++k) {
        auto x = to_number(arg(k));
        if (!x) return value::null();
        if (!best || (n.slot == f_min ? *x < *best : *x > *best)) best = x;
      }
      return value::number(*best);
    }
    case f_number: {
      auto x = to_number(arg(0));
      return x ? value::number(*x) : value::null();
    }
    case f_string: {
      value a = arg(0);
      return a.is_null() ? a : value::string(to_text(a, scratch));
    }
    case f_hour: return time_part([](int64_t, int64_t secs) { return value::number(static_cast<double>(secs / 3600)); });
    case f_weekday:
      // ISO: Monday 1 .. Sunday 7; day 0 (1970-01-01) was a Thursday.
      return time_part([](int64_t days, int64_t) {
        return value::number(static_cast<double>(((days % 7) + 7 + 3) % 7 + 1));
      });
    case f_day:
    case f_month:
    case f_year:
    case f_date:
      return time_part([&](int64_t days, int64_t) {
        int y;
        unsigned m, d;
        civil(days, y, m, d);
        if (n.slot == f_day) return value::number(d);
        if (n.slot == f_month) return value::number(m);
        if (n.slot == f_year) return value::number(y);
        char buf[16];
        int len = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
        return value::string(scratch.copy(std::string_view(buf, static_cast<size_t>(len))));
      });
  }
  return value::null();
}

} // namespace vigil::expr
