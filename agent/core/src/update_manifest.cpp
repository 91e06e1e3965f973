#include "agent/update_manifest.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>

#include <cstring>

#include "json/reader.hpp"

namespace agent {

const char* parse_version(const char* text, Version* out) {
  Version v;
  if (text == nullptr || *text == '\0') return "empty";
  const char* p = text;
  for (;;) {
    if (v.parts == Version::kMaxParts) return "more than 4 parts";
    size_t digits = 0;
    uint32_t value = 0;
    while (*p >= '0' && *p <= '9') {
      if (++digits > 9) return "a part has more than 9 digits";
      value = value * 10 + static_cast<uint32_t>(*p - '0');
      ++p;
    }
    if (digits == 0) {
      return *p == '.' || *p == '\0' ? "expected digits between the dots" : "only digits and dots are allowed";
    }
    v.part[v.parts++] = value;
    if (*p == '\0') break;
    if (*p != '.') return "only digits and dots are allowed";
    ++p;
  }
  if (out != nullptr) *out = v;
  return nullptr;
}

int compare_versions(const Version& a, const Version& b) {
  for (size_t i = 0; i < Version::kMaxParts; ++i) {
    const uint32_t x = i < a.parts ? a.part[i] : 0;
    const uint32_t y = i < b.parts ? b.part[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

hal::Result<size_t> base64_decode(const char* text, size_t len, uint8_t* out, size_t cap) {
  if (text == nullptr || len == 0) return hal::Err::InvalidArgument;
  for (size_t i = 0; i < len; ++i) {
    const char c = text[i];
    // mbedTLS skips whitespace; a form field or file here must not have any.
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return hal::Err::InvalidArgument;
  }
  size_t n = 0;
  const int rc = mbedtls_base64_decode(out, cap, &n, reinterpret_cast<const unsigned char*>(text), len);
  if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL) return hal::Err::Overflow;
  if (rc != 0) return hal::Err::InvalidArgument;
  return n;
}

hal::Result<size_t> base64_encode(const uint8_t* data, size_t len, char* out, size_t cap) {
  size_t n = 0;
  const int rc = mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out), cap, &n, data, len);
  if (rc != 0) return hal::Err::Overflow;
  return n;
}

void sha256_hex(const uint8_t digest[32], char out[65]) {
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < 32; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  out[64] = '\0';
}

// ---- manifest -----------------------------------------------------------------

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_version(json::Value v, char* out, size_t cap, Version* parsed, unsigned flags) {
  constexpr const char* kWhat = "a dotted version like \"1.4.2\"";
  std::string s;
  if (!v.text(&s, kWhat, flags)) return false;
  if (v.absent()) return true;
  if (const char* why = parse_version(s.c_str(), parsed)) return v.expected(kWhat, why);
  if (s.size() >= cap) return v.expected(kWhat, "too long");
  std::memcpy(out, s.c_str(), s.size() + 1);
  return true;
}

}  // namespace

bool parse_manifest(const uint8_t* bytes, size_t len, Manifest* out, std::string* error) {
  static const char* const kKeys[] = {"version", "compatible", "size", "sha256", "min_version", "notes"};
  json::Reader reader("manifest");
  Manifest m;
  bool ok = false;
  if (len > kManifestMaxBytes) {
    reader.fail_file("larger than " + std::to_string(kManifestMaxBytes) + " bytes");
  } else if (reader.parse(reinterpret_cast<const char*>(bytes), len)) {
    const json::Value root = reader.root();
    std::string compatible;
    std::string sha;
    constexpr const char* kCompatible = "a board compatible like \"xiot,sim\" (at most 63 characters)";
    constexpr const char* kSha = "64 hex digits (the image's SHA-256)";
    ok = root.object(kKeys) && read_version(root["version"], m.version, sizeof m.version, &m.v, json::kRequired) &&
         read_version(root["min_version"], m.min_version, sizeof m.min_version, &m.min_v, json::kOptional) &&
         root["compatible"].text(&compatible, kCompatible, json::kRequired) &&
         root["size"].integer(&m.size, 1, int64_t{1} << 53, json::kRequired) &&
         root["sha256"].text(&sha, kSha, json::kRequired) &&
         root["notes"].text(&m.notes, "a string", json::kEmptyOk);
    if (ok && compatible.size() > kCompatibleMaxChars) ok = root["compatible"].expected(kCompatible);
    if (ok && m.notes.size() > kNotesMaxChars) {
      ok = root["notes"].fail("longer than " + std::to_string(kNotesMaxChars) + " bytes");
    }
    if (ok) {
      std::memcpy(m.compatible, compatible.c_str(), compatible.size() + 1);
      if (sha.size() != 64) ok = root["sha256"].expected(kSha);
      for (size_t i = 0; ok && i < 32; ++i) {
        const int hi = hex_value(sha[2 * i]);
        const int lo = hex_value(sha[2 * i + 1]);
        if (hi < 0 || lo < 0) {
          ok = root["sha256"].expected(kSha);
        } else {
          m.sha256[i] = static_cast<uint8_t>(hi << 4 | lo);
        }
      }
    }
  }
  if (!ok) {
    if (error != nullptr) *error = reader.error();
    return false;
  }
  *out = std::move(m);
  return true;
}

// ---- keys -----------------------------------------------------------------------

struct TrustedKeys::Key {
  mbedtls_pk_context pk;
  Key() { mbedtls_pk_init(&pk); }
  ~Key() { mbedtls_pk_free(&pk); }
};

TrustedKeys::TrustedKeys() = default;

TrustedKeys::~TrustedKeys() {
  for (Key* k : keys_) delete k;
}

bool TrustedKeys::add_pem(const char* pem, const char* name, std::string* error) {
  auto* key = new Key;
  // mbedTLS wants the PEM's terminating NUL counted in the length.
  const int rc = mbedtls_pk_parse_public_key(&key->pk, reinterpret_cast<const unsigned char*>(pem),
                                             std::strlen(pem) + 1);
  const char* what = nullptr;
  if (rc != 0) {
    what = "not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")";
  } else if (mbedtls_pk_get_type(&key->pk) != MBEDTLS_PK_ECKEY ||
             mbedtls_pk_ec(key->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
    what = "expected an EC P-256 public key, got another kind of key";
  }
  if (what != nullptr) {
    delete key;
    if (error != nullptr) *error = std::string(name) + ": " + what;
    return false;
  }
  keys_.push_back(key);
  return true;
}

int TrustedKeys::verify(const uint8_t* data, size_t len, const uint8_t* sig, size_t sig_len) const {
  uint8_t hash[32];
  if (mbedtls_sha256_ret(data, len, hash, 0) != 0) return -1;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (mbedtls_pk_verify(&keys_[i]->pk, MBEDTLS_MD_SHA256, hash, sizeof hash, sig, sig_len) == 0) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// ---- policy ---------------------------------------------------------------------

const char* refusal_name(Refusal r) {
  switch (r) {
    case Refusal::None: return "ok";
    case Refusal::Malformed: return "malformed";
    case Refusal::BadSignature: return "bad-signature";
    case Refusal::WrongBoard: return "wrong-board";
    case Refusal::Downgrade: return "downgrade";
    case Refusal::MinVersion: return "min-version";
    case Refusal::TooLarge: return "too-large";
  }
  return "unknown";
}

Refusal check_update(const char* manifest_b64, const char* signature_b64, const TrustedKeys& keys,
                     const UpdatePolicy& policy, Manifest* out, std::string* manifest_bytes, std::string* why) {
  auto refuse = [why](Refusal r, const std::string& text) {
    if (why != nullptr) *why = text;
    return r;
  };
  const size_t m_len = manifest_b64 != nullptr ? std::strlen(manifest_b64) : 0;
  const size_t s_len = signature_b64 != nullptr ? std::strlen(signature_b64) : 0;
  if (m_len == 0) return refuse(Refusal::Malformed, "manifest: missing (expected the manifest bytes in base64)");
  if (s_len == 0) return refuse(Refusal::Malformed, "signature: missing (expected the DER signature in base64)");

  uint8_t manifest[kManifestMaxBytes];
  const hal::Result<size_t> m = base64_decode(manifest_b64, m_len, manifest, sizeof manifest);
  if (m.error() == hal::Err::Overflow) {
    return refuse(Refusal::Malformed, "manifest: larger than " + std::to_string(kManifestMaxBytes) + " bytes");
  }
  if (!m.ok()) return refuse(Refusal::Malformed, "manifest: not valid base64");
  uint8_t sig[kSignatureMaxBytes];
  const hal::Result<size_t> s = base64_decode(signature_b64, s_len, sig, sizeof sig);
  if (!s.ok()) return refuse(Refusal::Malformed, "signature: not valid base64 of a DER ECDSA signature");

  if (keys.size() == 0) return refuse(Refusal::BadSignature, "signature: no trusted update keys (update.public_keys)");
  if (keys.verify(manifest, m.value(), sig, s.value()) < 0) {
    return refuse(Refusal::BadSignature, "signature: not made by any of the " + std::to_string(keys.size()) +
                                             " trusted update key(s) for these manifest bytes");
  }

  Manifest parsed;
  std::string error;
  if (!parse_manifest(manifest, m.value(), &parsed, &error)) return refuse(Refusal::Malformed, error);

  if (std::strcmp(parsed.compatible, policy.compatible) != 0) {
    return refuse(Refusal::WrongBoard, std::string("compatible: manifest is for \"") + parsed.compatible +
                                           "\", this board is \"" + policy.compatible + "\"");
  }
  Version installed;
  const bool have_installed = parse_version(policy.installed_version, &installed) == nullptr;
  if (have_installed && compare_versions(parsed.v, installed) <= 0) {
    return refuse(Refusal::Downgrade, std::string("version: ") + parsed.version + " is not newer than the installed " +
                                          policy.installed_version);
  }
  Version floor;
  if (parse_version(policy.floor_version, &floor) == nullptr && compare_versions(parsed.v, floor) < 0) {
    return refuse(Refusal::Downgrade, std::string("version: ") + parsed.version +
                                          " is below this device's version floor " + policy.floor_version);
  }
  if (parsed.min_v.parts != 0) {
    if (!have_installed) {
      return refuse(Refusal::MinVersion, std::string("min_version: ") + parsed.min_version +
                                             " required, the installed version is unknown");
    }
    if (compare_versions(installed, parsed.min_v) < 0) {
      return refuse(Refusal::MinVersion, std::string("min_version: the installed ") + policy.installed_version +
                                             " is below the required " + parsed.min_version);
    }
  }
  if (policy.max_size != 0 && parsed.size > policy.max_size) {
    return refuse(Refusal::TooLarge, "size: " + std::to_string(parsed.size) + " bytes is above update.max_image_bytes " +
                                         std::to_string(policy.max_size));
  }
  if (manifest_bytes != nullptr) manifest_bytes->assign(reinterpret_cast<const char*>(manifest), m.value());
  if (out != nullptr) *out = std::move(parsed);
  if (why != nullptr) why->clear();
  return Refusal::None;
}

}  // namespace agent
