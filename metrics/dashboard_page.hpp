#pragma once

#include <string>

namespace vigil {

/// The node's dashboard (`GET /`): one self-contained page (inline CSS and
/// JS, nothing fetched from anywhere but the node), drawn at once from
/// `initial_status` (`/api/v1/status`'s JSON) and then kept current by
/// `/api/v1/events` (Server-Sent Events, one a second; the browser
/// reconnects by itself).
std::string dashboard_page(const std::string& initial_status);

} // namespace vigil
