// Device identity: the device's EC P-256 key, its certificate signing request
// and what the agent reads back from a certificate, all with mbedTLS 2.28.
//
// The JID travels in the subjectAltName as an otherName id-on-xmppAddr
// (OID 1.3.6.1.5.5.7.8.5, a UTF8String; RFC 6120 §13.7.1.4). mbedTLS 2.28 has
// no helper for that otherName, so xmpp_addr_san() builds the extension value
// with its ASN.1 writer and xmpp_addr_from_san() reads it back. The fleet CA
// (fleet/ca.cpp, xiotctl ca sign) uses the same two functions, so the CSR and
// the certificate carry one encoding.
//
// Everything here works on PEM/DER in memory: writing the key file (0600,
// temp file + rename) is the caller's (agent/app/identity_cmd.cpp), since
// agent/core has no file system. A private key is never logged.
//
// Start-up/tool code: it allocates (std::string); no exceptions.
#pragma once

#include <cstdint>
#include <string>

#include "hal/status.hpp"

namespace agent {
namespace identity {

/// The dotted OID of id-on-xmppAddr.
constexpr const char* kXmppAddrOid = "1.3.6.1.5.5.7.8.5";

/// The DER value of a subjectAltName extension (GeneralNames) holding one
/// otherName id-on-xmppAddr with `jid` as UTF8String:
///   SEQUENCE { [0] { OID 1.3.6.1.5.5.7.8.5, [0] EXPLICIT UTF8String jid } }
/// Errors: InvalidArgument (empty JID or longer than 1023 bytes).
hal::Err xmpp_addr_san(const std::string& jid, std::string* der);

/// The first id-on-xmppAddr in a subjectAltName extension value (DER
/// GeneralNames). Errors: NotFound (no xmppAddr otherName), Corrupt
/// (malformed DER).
hal::Err xmpp_addr_from_san(const unsigned char* der, size_t len, std::string* jid);

/// A new EC P-256 private key as PEM ("-----BEGIN EC PRIVATE KEY-----").
/// Errors: Io (the RNG or key generation failed).
hal::Err generate_key(std::string* key_pem);

/// A PKCS#10 CSR (PEM) for `key_pem`: subject CN=<jid>, the xmppAddr SAN,
/// signed with ECDSA/SHA-256. Errors: InvalidArgument (bad key or JID; the
/// reason in *error), Io.
hal::Err make_csr(const std::string& key_pem, const std::string& jid, std::string* csr_pem, std::string* error);

/// What a CSR says, after its signature was verified.
struct CsrInfo {
  std::string subject;     ///< "CN=dev1@localhost"
  std::string jid;         ///< from the xmppAddr SAN ("" if none)
  std::string pubkey_der;  ///< SubjectPublicKeyInfo (DER)
};

/// Parses a CSR (PEM or DER), verifies its self-signature and reads its
/// extensionRequest for the xmppAddr SAN. Errors: InvalidArgument (not a
/// CSR, bad signature, malformed extensions; the reason in *error).
hal::Err read_csr(const std::string& csr, CsrInfo* info, std::string* error);

/// What the agent needs from a certificate.
struct CertInfo {
  std::string subject;     ///< "CN=dev1@localhost"
  std::string issuer;
  std::string jid;         ///< from the xmppAddr SAN ("" if none)
  std::string serial;      ///< hex
  int64_t not_before = 0;  ///< Unix seconds (UTC)
  int64_t not_after = 0;
  bool ca = false;         ///< basicConstraints CA:true
  std::string pubkey_der;  ///< SubjectPublicKeyInfo (DER)
};

/// Parses the first certificate of `pem` (PEM or DER). Errors:
/// InvalidArgument (the reason in *error).
hal::Err read_cert(const std::string& pem, CertInfo* info, std::string* error);

/// The SubjectPublicKeyInfo (DER) of a private key (PEM). Errors:
/// InvalidArgument (not a key).
hal::Err public_key_der(const std::string& key_pem, std::string* der);

/// SHA-256 of a SubjectPublicKeyInfo as "sha256:" + 64 lowercase hex digits.
std::string fingerprint(const std::string& pubkey_der);

/// Whole days from `now` to `not_after` (Unix seconds), rounded down;
/// negative once expired.
int64_t days_left(int64_t not_after, int64_t now);

/// Unix seconds of a UTC calendar time (proleptic Gregorian).
int64_t unix_time(int year, int month, int day, int hour, int minute, int second);

/// "YYYY-MM-DDTHH:MM:SSZ" of Unix seconds.
std::string iso8601(int64_t t);

/// The same into `buf` (no allocation; 21 bytes suffice for years 0..9999).
/// Returns the length, or 0 when `cap` is too small.
size_t format_iso8601(int64_t t, char* buf, size_t cap);

}  // namespace identity
}  // namespace agent
