#include "signature/signature_matcher.hpp"

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <hs/hs.h>

namespace vigil {

namespace {

struct match_context {
  const signature_mask* class_bits;
  signature_mask mask = 0;
  std::vector<uint32_t>* matched = nullptr;
};

int on_match(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  auto* c = static_cast<match_context*>(ctx);
  c->mask |= c->class_bits[id];
  if (c->matched) c->matched->push_back(id);
  return 0;  // keep scanning: a request may match several classes
}

} // namespace

std::shared_ptr<const signature_matcher> signature_matcher::compile(const signature_set& set,
                                                                    std::string& error) {
  return compile_for(set, nullptr, error);
}

std::shared_ptr<signature_matcher> signature_matcher::compile_for(const signature_set& set,
                                                                  const void* platform,
                                                                  std::string& error) {
  std::shared_ptr<signature_matcher> m(new signature_matcher);
  m->adopt(set);
  for (size_t f = 0; f < signature_field_count; ++f) {
    std::vector<const signature*> sigs;
    std::vector<unsigned> ids;
    for (size_t i = 0; i < set.signatures().size(); ++i)
      if (set.signatures()[i].fields & field_bit(static_cast<signature_field>(f))) {
        sigs.push_back(&set.signatures()[i]);
        ids.push_back(static_cast<unsigned>(i));  // the match callback maps it to its class
      }
    if (sigs.empty()) continue;
    std::vector<const char*> exprs;
    std::vector<unsigned> flags;
    for (auto* s : sigs) {
      exprs.push_back(s->pattern.c_str());
      flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL);
    }
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                         static_cast<const hs_platform_info_t*>(platform), &m->databases_[f], &err)
        != HS_SUCCESS) {
      const signature* bad = err->expression >= 0 ? sigs[static_cast<size_t>(err->expression)]
                                                  : sigs.front();
      error = bad->origin + ": pattern '" + bad->pattern + "' does not compile: " + err->message;
      hs_free_compile_error(err);
      return nullptr;
    }
    if (hs_alloc_scratch(m->databases_[f], &m->prototype_) != HS_SUCCESS) {
      error = "hyperscan: cannot allocate scratch space";
      return nullptr;
    }
  }
  return m;
}

bool signature_matcher::serialize_portable(const signature_set& set,
                                           std::array<std::string, signature_field_count>& out,
                                           std::string& error) {
  hs_platform_info_t generic{};
  generic.tune = HS_TUNE_FAMILY_GENERIC;
  generic.cpu_features = 0;  // no AVX2/AVX-512: loads on any x86-64 Hyperscan supports
  auto m = compile_for(set, &generic, error);
  if (!m) return false;
  for (size_t f = 0; f < signature_field_count; ++f) {
    out[f].clear();
    if (m->databases_[f] == nullptr) continue;
    char* bytes = nullptr;
    size_t length = 0;
    if (hs_serialize_database(m->databases_[f], &bytes, &length) != HS_SUCCESS) {
      error = "hyperscan: cannot serialize the database";
      return false;
    }
    out[f].assign(bytes, length);
    std::free(bytes);
  }
  return true;
}

std::shared_ptr<const signature_matcher>
signature_matcher::deserialize(const std::array<std::string_view, signature_field_count>& blobs,
                               const signature_set& set, std::string& error) {
  std::shared_ptr<signature_matcher> m(new signature_matcher);
  m->adopt(set);
  for (size_t f = 0; f < signature_field_count; ++f) {
    if (blobs[f].empty()) continue;
    if (hs_deserialize_database(blobs[f].data(), blobs[f].size(), &m->databases_[f]) != HS_SUCCESS
        || hs_alloc_scratch(m->databases_[f], &m->prototype_) != HS_SUCCESS) {
      error = "hyperscan: the built-in signature database does not load on this machine";
      return nullptr;
    }
  }
  return m;
}

void signature_matcher::adopt(const signature_set& set) {
  signatures_ = set.signatures();
  class_bits_.clear();
  for (const auto& s : signatures_) class_bits_.push_back(mask_of(s.cls));
}

signature_matcher::~signature_matcher() {
  for (auto* db : databases_) hs_free_database(db);
  hs_free_scratch(prototype_);
}

signature_matcher::scanner::scanner(std::shared_ptr<const signature_matcher> matcher)
  : matcher_(std::move(matcher)) {
  if (matcher_->prototype_ != nullptr && hs_clone_scratch(matcher_->prototype_, &scratch_) != HS_SUCCESS)
    throw std::bad_alloc();
}

signature_matcher::scanner::scanner(scanner&& other) noexcept
  : matcher_(std::move(other.matcher_)), scratch_(other.scratch_) {
  other.scratch_ = nullptr;
}

signature_matcher::scanner::~scanner() { hs_free_scratch(scratch_); }

signature_mask signature_matcher::scanner::scan(signature_field field, std::string_view text,
                                                std::vector<uint32_t>* matched) const {
  const hs_database* db = matcher_->databases_[static_cast<size_t>(field)];
  if (db == nullptr) return 0;
  match_context ctx{matcher_->class_bits_.data(), 0, matched};
  hs_scan(db, text.data(), static_cast<unsigned>(text.size()), 0, scratch_, on_match, &ctx);
  return ctx.mask;
}

} // namespace vigil
