#pragma once

#include <caf/atom.hpp>

namespace vigil {

// Atoms are limited to 10 characters in CAF 0.17; keep them short and unique.

/// Hands a chunk of lines to a parse worker.
using parse_atom = caf::atom_constant<caf::atom("parse")>;
constexpr parse_atom parse_atom_v{};

/// Asks a worker for its partial result.
using collect_atom = caf::atom_constant<caf::atom("collect")>;
constexpr collect_atom collect_atom_v{};

/// Hands a partial result to the merger.
using merge_atom = caf::atom_constant<caf::atom("merge")>;
constexpr merge_atom merge_atom_v{};

/// Starts a job and asks for its final result.
using run_atom = caf::atom_constant<caf::atom("run")>;
constexpr run_atom run_atom_v{};

/// Asks the merger for the merged result.
using result_atom = caf::atom_constant<caf::atom("result")>;
constexpr result_atom result_atom_v{};

} // namespace vigil
