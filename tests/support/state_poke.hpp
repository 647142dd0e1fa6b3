#pragma once

// Damages a state store behind vigil's back, as a disk or a person might.

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

namespace vigil::test {

inline std::string checkpoint_key(uint64_t id, const std::string& participant = "") {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[i] = static_cast<char>(id >> (56 - 8 * i));
  return k + participant;
}

/// Puts `value` under `key` in column family `family` (deletes it when
/// `value` is empty).
inline void poke_state(const std::string& dir, const std::string& family, const std::string& key,
                       const std::string& value) {
  std::vector<rocksdb::ColumnFamilyDescriptor> fams;
  for (const char* f : {"default", "checkpoints", "sources", "windows", "detector", "alerts", "sinks"})
    fams.emplace_back(f, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, fams, &handles, &db).ok());
  size_t i = 0;
  while (fams[i].name != family) ++i;
  if (value.empty()) REQUIRE(db->Delete(rocksdb::WriteOptions(), handles[i], key).ok());
  else REQUIRE(db->Put(rocksdb::WriteOptions(), handles[i], key, value).ok());
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

} // namespace vigil::test
