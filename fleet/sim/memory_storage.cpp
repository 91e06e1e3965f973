// See memory_storage.hpp.
#include "memory_storage.hpp"

#include <cstring>

namespace fleet_sim {
namespace {

// hal::Storage's key rule: [A-Za-z0-9._-], 1..63 chars.
bool valid_key(const char* key) {
  if (key == nullptr || key[0] == '\0') return false;
  size_t n = 0;
  for (const char* p = key; *p != '\0'; ++p, ++n) {
    const char c = *p;
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok || n >= 63) return false;
  }
  return true;
}

}  // namespace

hal::Result<size_t> MemoryStorage::read(const char* key, uint8_t* buf, size_t cap) {
  if (!valid_key(key)) return hal::Err::InvalidArgument;
  for (const auto& b : blobs_) {
    if (b.first != key) continue;
    if (b.second.size() > cap) return hal::Err::Overflow;
    if (!b.second.empty()) std::memcpy(buf, b.second.data(), b.second.size());
    return b.second.size();
  }
  return hal::Err::NotFound;
}

hal::Err MemoryStorage::replace(const char* key, const uint8_t* data, size_t len) {
  if (!valid_key(key)) return hal::Err::InvalidArgument;
  if (len > kMaxBlobBytes) return hal::Err::NoSpace;
  for (auto& b : blobs_) {
    if (b.first == key) {
      b.second.assign(data, data + len);
      return hal::Err::Ok;
    }
  }
  if (blobs_.size() >= kMaxKeys) return hal::Err::NoSpace;
  blobs_.emplace_back(key, std::vector<uint8_t>(data, data + len));
  return hal::Err::Ok;
}

hal::Err MemoryStorage::remove(const char* key) {
  if (!valid_key(key)) return hal::Err::InvalidArgument;
  for (size_t i = 0; i < blobs_.size(); ++i) {
    if (blobs_[i].first == key) {
      blobs_.erase(blobs_.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  return hal::Err::Ok;
}

}  // namespace fleet_sim
