#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/time/time.h>

namespace vigil::expr {

/// A value an expression computes: null, a boolean, a number, a string or
/// a time (UTC milliseconds since the epoch).
struct value {
  enum class kind : uint8_t { null, boolean, number, text, time };
  kind type = kind::null;
  double num = 0;         ///< boolean (0/1), number, time
  std::string_view text;  ///< kind text: valid until the scope's arena resets

  static value null() { return {}; }
  static value boolean(bool b) { return {kind::boolean, b ? 1.0 : 0.0, {}}; }
  static value number(double d) { return {kind::number, d, {}}; }
  static value time(double ms) { return {kind::time, ms, {}}; }
  static value string(std::string_view s) { return {kind::text, 0, s}; }
  bool is_null() const noexcept { return type == kind::null; }
  /// Truth in a condition: null, false, 0 and "" are false.
  bool truthy() const noexcept;
};

/// Scratch space for strings an expression makes (lower, concat, ...):
/// chunks kept across `reset`, so steady-state evaluation allocates nothing.
class arena {
public:
  std::string_view copy(std::string_view s);
  char* allocate(size_t n);
  void reset() noexcept;

private:
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<size_t> sizes_;
  size_t chunk_ = 0, used_ = 0;
};

/// Where an expression reads its variables (a record's fields, a window's
/// aggregates): slots the compiler resolved names to.
class scope {
public:
  virtual ~scope() = default;
  virtual value get(int slot) const = 0;
};

/// What the compiler asks about names.
struct names {
  /// The slot of variable `name`; nullopt: no such variable.
  std::function<std::optional<int>(std::string_view name)> variable;
  /// For `known` in error messages ("fields: a, b, ...").
  std::string known;
  /// A call to a function the language does not have, with its argument
  /// nodes: the caller may take it (window aggregates) by returning the
  /// slot its value is read from; nullopt: "unknown function".
  std::function<std::optional<int>(std::string_view name, const std::vector<int>& args, std::string& error)> call;
  /// The zone the time functions (hour, day, ...) read a timestamp in.
  absl::TimeZone zone = absl::UTCTimeZone();
};

/// A compiled expression: `total = price * quantity * (1 - discount)`,
/// `total >= 100 ? "big" : "small"`, `lower(trim(country))`,
/// `hour(event_time)`, `event_type == "view" && !is_test`.
///
/// The language is small on purpose: numbers, strings, booleans, null,
/// `+ - * / %`, comparisons, `&& || !`, `? :`, and the functions
/// lower upper trim concat substr coalesce len abs round floor ceil min max
/// number string, and of a time: hour day weekday date month year.
/// Comparing with null is false except `== null`; arithmetic with null is null.
class program {
public:
  /// Compiles `text`. On failure returns nullopt and sets `error` to what
  /// is wrong and where ("unknown field 'qty' at position 7 (fields: ...)").
  static std::optional<program> compile(std::string_view text, const names& n, std::string& error);

  /// Evaluates against `vars`; strings it makes go to `scratch`.
  value eval(const scope& vars, arena& scratch) const;

  /// The program of the subexpression at node `node` (a call's argument),
  /// for callers that took a call (see `names::call`).
  program sub(int node) const;
  /// The node's text, for messages.
  std::string text_of(int node) const;
  /// When node is a string or number literal: its value.
  std::optional<value> literal(int node) const;

  /// The whole expression is one taken call (`top(product, 5)`).
  bool whole_is_taken_call() const;

  /// Variable slots the expression reads, without repeats.
  std::vector<int> variables() const;
  /// The names of variables read outside taken calls (see `names::call`).
  std::vector<std::string> free_variables() const;

  const std::string& source() const noexcept { return source_; }

  struct node {
    uint8_t op = 0;
    int a = -1, b = -1, c = -1;   ///< children
    int slot = -1;                ///< variable, function id, taken call
    double num = 0;
    std::string text;             ///< string literal
    std::vector<int> args;        ///< function arguments
    uint32_t begin = 0, end = 0;  ///< in the source text
  };

private:
  value eval_node(int i, const scope& vars, arena& scratch) const;
  int copy_into(program& out, int i) const;
  void collect_free(int i, std::vector<std::string>& out) const;

  std::string source_;
  std::vector<node> nodes_;
  int root_ = -1;
  absl::TimeZone zone_ = absl::UTCTimeZone();
  friend class parser;
};

/// Parses a zone for the time functions: "UTC", "Z", an offset such as
/// "+02:00" / "-0530" (fixed), or an IANA name such as "Europe/Berlin"
/// (with its daylight saving time, from the system's tzdata). Returns
/// nullopt when it is none of those.
std::optional<absl::TimeZone> parse_time_zone(std::string_view zone);

} // namespace vigil::expr
