// Signed update manifests: parsing, signature verification and the install
// policy (docs/updates.md).
//
// A manifest is a JSON object {"version", "compatible", "size", "sha256",
// "min_version", "notes"}; its signature is ECDSA P-256 over SHA-256 of the
// manifest bytes exactly as sent, DER, base64 in a detached file. The device
// trusts the public keys of `update.public_keys` (any one of them suffices).
//
// Versions are dotted numbers: 1 to 4 parts of 1 to 9 decimal digits each
// ("2", "1.4", "2026.12.6.1"); no signs, spaces, empty parts or suffixes.
// Missing trailing parts count as 0, so "1.2" == "1.2.0"; leading zeros are
// allowed and ignored ("1.02" == "1.2").
//
// Runs once per update (not per message): parse_manifest() reads through
// json::Reader, which allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hal/status.hpp"

namespace agent {

/// A parsed dotted version.
struct Version {
  static constexpr size_t kMaxParts = 4;
  uint32_t part[kMaxParts] = {};
  uint8_t parts = 0;  ///< how many were written (1..4); 0 = not parsed
};

/// Parses `text` (see the header comment). Returns nullptr on success, else
/// a short reason ("empty", "more than 4 parts", "part 2 is not a number",
/// "part 3 has more than 9 digits").
const char* parse_version(const char* text, Version* out);
/// <0, 0, >0 as a is older, equal, newer than b (missing parts are 0).
int compare_versions(const Version& a, const Version& b);

/// Limits of a manifest's fields.
constexpr size_t kManifestMaxBytes = 4096;
constexpr size_t kVersionMaxChars = 39;     ///< 4 x 9 digits + 3 dots
constexpr size_t kCompatibleMaxChars = 63;
constexpr size_t kNotesMaxChars = 1024;
constexpr size_t kSignatureMaxBytes = 80;   ///< DER of an ECDSA P-256 signature is at most 72

struct Manifest {
  char version[kVersionMaxChars + 1] = {};
  char min_version[kVersionMaxChars + 1] = {};  ///< "" when the manifest has none
  char compatible[kCompatibleMaxChars + 1] = {};
  uint64_t size = 0;
  uint8_t sha256[32] = {};
  std::string notes;
  Version v;      ///< version, parsed
  Version min_v;  ///< min_version, parsed (parts == 0 when absent)
};

/// Parses manifest bytes. On failure returns false with `*error` one line
/// naming the field: `manifest: size: expected an integer from 1 to
/// 9007199254740992, got "12"`, `manifest: sha256: expected 64 hex digits`,
/// `manifest: 1:5: malformed JSON near ...`, `manifest: version: expected a
/// dotted version like "1.4.2", got "1.x" (part 2 is not a number)`. Unknown
/// keys are errors (a signed manifest is written by our own tool).
bool parse_manifest(const uint8_t* bytes, size_t len, Manifest* out, std::string* error);

/// Standard base64 (RFC 4648, with padding; whitespace not allowed). Returns
/// the decoded length or Overflow (cap too small) / InvalidArgument (not
/// base64).
hal::Result<size_t> base64_decode(const char* text, size_t len, uint8_t* out, size_t cap);
/// Encodes into `out` (NUL-terminated); returns the length without NUL or Overflow.
hal::Result<size_t> base64_encode(const uint8_t* data, size_t len, char* out, size_t cap);

/// Lower-case hex of a SHA-256 digest into `out` (65 bytes with the NUL).
void sha256_hex(const uint8_t digest[32], char out[65]);

/// The update keys a device trusts (update.public_keys), parsed once.
class TrustedKeys {
 public:
  TrustedKeys();
  ~TrustedKeys();
  TrustedKeys(const TrustedKeys&) = delete;
  TrustedKeys& operator=(const TrustedKeys&) = delete;

  /// Adds one PEM public key (SubjectPublicKeyInfo, "-----BEGIN PUBLIC
  /// KEY-----"); `name` says where it came from in messages. Only EC P-256
  /// keys are accepted. On failure returns false and sets `*error` to
  /// "<name>: not a PEM public key (...)" or "<name>: expected an EC P-256
  /// key, got ...".
  bool add_pem(const char* pem, const char* name, std::string* error);
  size_t size() const { return keys_.size(); }

  /// Index of the first key whose ECDSA P-256/SHA-256 signature `sig` (DER)
  /// over `data` verifies, or -1.
  int verify(const uint8_t* data, size_t len, const uint8_t* sig, size_t sig_len) const;

 private:
  struct Key;
  std::vector<Key*> keys_;
};

/// What the device knows when it judges a manifest.
struct UpdatePolicy {
  const char* compatible = "";         ///< the board's (BoardSpec::compatible)
  const char* installed_version = "";  ///< the running firmware's version
  const char* floor_version = "";      ///< never install below this ("" = none); persisted
  uint64_t max_size = 0;               ///< update.max_image_bytes
};

/// Why an update was refused (UpdateCheck::reason).
enum class Refusal : uint8_t {
  None = 0,
  Malformed,      ///< manifest or signature cannot be decoded/parsed
  BadSignature,   ///< no trusted key signed these bytes
  WrongBoard,     ///< compatible differs from the board's
  Downgrade,      ///< not newer than the installed version, or below the floor
  MinVersion,     ///< the installed version is below the manifest's min_version
  TooLarge,       ///< size above update.max_image_bytes
};
const char* refusal_name(Refusal r);

/// Decodes the base64 manifest and signature, verifies the signature with
/// `keys`, parses the manifest and applies `policy`. Order: decoding, then
/// the signature (nothing of an unsigned manifest is believed), then the
/// fields, board, versions and size. On refusal fills `*why` with one line
/// ("signature: not made by any of the 2 trusted update keys", "compatible:
/// manifest is for \"xiot,rpi4\", this board is \"xiot,sim\"", "version:
/// 1.2.0 is not newer than the installed 1.3.0") and returns the reason.
Refusal check_update(const char* manifest_b64, const char* signature_b64, const TrustedKeys& keys,
                     const UpdatePolicy& policy, Manifest* out, std::string* manifest_bytes, std::string* why);

}  // namespace agent
