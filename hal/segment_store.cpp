#include "hal/segment_store.hpp"

#include <cstdio>

namespace hal {

const char* segment_name(uint32_t id, char* out, size_t cap) {
  if (out == nullptr || cap == 0) return "";
  std::snprintf(out, cap, "%08x.seg", static_cast<unsigned>(id));
  return out;
}

bool parse_segment_name(const char* name, uint32_t* id) {
  if (name == nullptr) return false;
  uint32_t v = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = name[i];
    uint32_t d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return false;  // also the end of a short name
    }
    v = (v << 4) | d;
  }
  if (name[8] != '.' || name[9] != 's' || name[10] != 'e' || name[11] != 'g' || name[12] != '\0') return false;
  if (id != nullptr) *id = v;
  return true;
}

}  // namespace hal
