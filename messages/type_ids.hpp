#pragma once

// The one type-id block of vigil: every type that travels in a CAF message.

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/type_id.hpp>

#include "messages/event.hpp"
#include "messages/interfaces.hpp"
#include "messages/text_chunk.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::aggregate_ptr)

CAF_BEGIN_TYPE_ID_BLOCK(vigil, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(vigil, (vigil::text_chunk))
  CAF_ADD_TYPE_ID(vigil, (vigil::aggregate_ptr))
  CAF_ADD_TYPE_ID(vigil, (vigil::event_batch))
  CAF_ADD_TYPE_ID(vigil, (vigil::analyze_worker_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::report_merger_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::input_reader_actor))
  CAF_ADD_TYPE_ID(vigil, (std::vector<std::string>))
  CAF_ADD_TYPE_ID(vigil, (vigil::line_sink_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::window_stage_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::parse_stage_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::source_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::enrich_stage_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::detect_stage_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::alert_stage_actor))
  CAF_ADD_TYPE_ID(vigil, (vigil::alert))
  CAF_ADD_TYPE_ID(vigil, (std::vector<vigil::alert>))
  CAF_ADD_TYPE_ID(vigil, (vigil::group_snapshot))
  CAF_ADD_TYPE_ID(vigil, (vigil::window_delta))
  CAF_ADD_TYPE_ID(vigil, (std::vector<vigil::window_delta>))
  CAF_ADD_TYPE_ID(vigil, (vigil::state_part))
  CAF_ADD_TYPE_ID(vigil, (std::vector<vigil::source_actor>))
  CAF_ADD_TYPE_ID(vigil, (vigil::checkpoint_coordinator_actor))
CAF_END_TYPE_ID_BLOCK(vigil)
