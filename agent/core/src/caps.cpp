#include "agent/caps.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include <cstring>

namespace agent {

namespace {

const char* or_empty(const char* s) { return s != nullptr ? s : ""; }

/// i;octet comparison of identities on the XEP-0115 §5.1 sort keys.
int compare_identity(const Identity& a, const Identity& b) {
  int c = std::strcmp(a.category, b.category);
  if (c == 0) c = std::strcmp(a.type, b.type);
  if (c == 0) c = std::strcmp(or_empty(a.lang), or_empty(b.lang));
  if (c == 0) c = std::strcmp(or_empty(a.name), or_empty(b.name));
  return c;
}

/// Emits the elements of [0, n) in ascending order, each distinct value once,
/// without a scratch array: each round picks the smallest element greater
/// than the previous pick. O(n^2), which is nothing for the handful of
/// identities and features an agent has.
template <typename Less, typename Emit>
void for_each_sorted_unique(size_t n, Less&& less, Emit&& emit) {
  size_t prev = n;  // n = none yet
  for (;;) {
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (prev != n && !less(prev, i)) continue;  // not greater than the previous pick
      if (best == n || less(i, best)) best = i;
    }
    if (best == n) return;
    emit(best);
    prev = best;
  }
}

class Sha1Stream {
 public:
  Sha1Stream() {
    mbedtls_sha1_init(&ctx_);
    if (mbedtls_sha1_starts_ret(&ctx_) != 0) failed_ = true;
  }
  ~Sha1Stream() { mbedtls_sha1_free(&ctx_); }
  Sha1Stream(const Sha1Stream&) = delete;
  Sha1Stream& operator=(const Sha1Stream&) = delete;

  void add(const char* s) {
    if (failed_ || s == nullptr || *s == '\0') return;
    if (mbedtls_sha1_update_ret(&ctx_, reinterpret_cast<const unsigned char*>(s), std::strlen(s)) != 0) {
      failed_ = true;
    }
  }
  bool finish(unsigned char digest[20]) {
    if (failed_) return false;
    return mbedtls_sha1_finish_ret(&ctx_, digest) == 0;
  }

 private:
  mbedtls_sha1_context ctx_;
  bool failed_ = false;
};

}  // namespace

hal::Result<size_t> caps_ver(char* out, size_t cap, const Identity* identities, size_t identity_count,
                             const char* const* features, size_t feature_count) {
  if (out == nullptr || cap < kCapsVerLen + 1) return hal::Err::Overflow;
  if (identities == nullptr || identity_count == 0) return hal::Err::InvalidArgument;
  if (features == nullptr && feature_count != 0) return hal::Err::InvalidArgument;
  for (size_t i = 0; i < identity_count; ++i) {
    if (identities[i].category == nullptr || identities[i].type == nullptr) {
      return hal::Err::InvalidArgument;
    }
  }
  for (size_t i = 0; i < feature_count; ++i) {
    if (features[i] == nullptr) return hal::Err::InvalidArgument;
  }

  Sha1Stream sha;
  // §5.1 steps 2-3: "category/type/lang/name<" for each identity, sorted.
  for_each_sorted_unique(
      identity_count,
      [identities](size_t a, size_t b) { return compare_identity(identities[a], identities[b]) < 0; },
      [&sha, identities](size_t i) {
        const Identity& id = identities[i];
        sha.add(id.category);
        sha.add("/");
        sha.add(id.type);
        sha.add("/");
        sha.add(id.lang);
        sha.add("/");
        sha.add(id.name);
        sha.add("<");
      });
  // §5.1 steps 4-5: "feature<" for each feature, sorted.
  for_each_sorted_unique(
      feature_count, [features](size_t a, size_t b) { return std::strcmp(features[a], features[b]) < 0; },
      [&sha, features](size_t i) {
        sha.add(features[i]);
        sha.add("<");
      });

  unsigned char digest[20];
  if (!sha.finish(digest)) return hal::Err::Io;
  size_t olen = 0;
  if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out), cap, &olen, digest, sizeof digest) != 0) {
    return hal::Err::Overflow;
  }
  return olen;
}

}  // namespace agent
