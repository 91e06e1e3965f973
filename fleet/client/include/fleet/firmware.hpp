// The operator side of signed updates (docs/updates.md): the update key pair,
// signing a manifest for an image, and reading a signed manifest back.
// Host code: throws fleet::Error (Exit::Usage for bad input files/arguments).
#pragma once

#include <cstdint>
#include <string>

namespace fleet {

/// Writes DIR/update-key.pem (EC P-256 private key, PEM, mode 0600) and
/// DIR/update-key.pub.pem (its SubjectPublicKeyInfo, 0644; what devices list
/// in update.public_keys). DIR is created if missing; existing key files
/// are never overwritten (Error).
void firmware_keygen(const std::string& dir);

struct SignRequest {
  std::string key_file;     ///< the private key PEM
  std::string version;      ///< dotted version of the image
  std::string compatible;   ///< the board it is for ("xiot,sim")
  std::string min_version;  ///< "" = none
  std::string notes;
  std::string image;        ///< image file: its size and SHA-256 go into the manifest
  std::string out_dir;      ///< manifest.json + manifest.sig go here
};

/// The manifest JSON for the fields and image (one line, keys in DESIGN
/// order) — what sign() writes and signs.
std::string firmware_manifest_json(const SignRequest& r, uint64_t size, const std::string& sha256_hex);

/// Hashes the image, writes OUT/manifest.json and OUT/manifest.sig (base64
/// DER ECDSA P-256 over SHA-256 of the manifest bytes, one line). Returns
/// the manifest text.
std::string firmware_sign(const SignRequest& r);

/// ECDSA P-256/SHA-256 signature of `data` with the PEM private key in
/// `key_file`, DER, base64 (no newline).
std::string firmware_signature_b64(const std::string& key_file, const std::string& data);

/// SHA-256 of a file as lower-case hex, and its size.
std::string file_sha256_hex(const std::string& path, uint64_t* size);

/// Base64 (standard, padded) of `data`.
std::string base64(const std::string& data);

}  // namespace fleet
