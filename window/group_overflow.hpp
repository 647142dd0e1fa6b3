#pragma once

#include <string>
#include <string_view>

namespace vigil {

/// The value of every field of the last-resort overflow group.
inline constexpr std::string_view overflow_value = "(overflow)";

/// Appends the network of a group key's value when the key finds no room
/// under max_groups to `out`: an IPv4 address's /24 ("10.1.2.0/24"), an
/// IPv6 address's /64 ("2001:db8:1:2::/64"), and for anything else
/// `overflow_value`. Allocates nothing but `out`'s growth.
void append_network_of(std::string_view value, std::string& out);

} // namespace vigil
