// The fleet CA (`xiotctl ca init|sign`): a small certificate authority for
// tests and small fleets, on mbedTLS (the same library as the device).
//
//   DIR/ca.key  EC P-256 private key (PEM, 0600)
//   DIR/ca.crt  self-signed CA certificate: basicConstraints CA:true
//               (critical), keyUsage keyCertSign|cRLSign, SKI
//
// sign() verifies a device CSR's signature, takes the JID from its
// id-on-xmppAddr SAN (agent::identity, the code the device used to write it)
// and issues a leaf certificate with, in this order: basicConstraints
// CA:false, keyUsage digitalSignature|keyAgreement, extendedKeyUsage
// serverAuth+clientAuth (Prosody's mod_auth_ccert wants both), SKI, AKI and
// only then the subjectAltName (libstrophe hides the xmppAddr when the SAN is
// the first extension). Subject CN=<jid>, a random 127-bit serial, notBefore
// = now (or the caller's start), notAfter = start + days.
//
// Host-side code: errors are fleet::Error (Exit::Usage for bad input).
#pragma once

#include <cstdint>
#include <string>

namespace fleet {
namespace ca {

struct Issued {
  std::string cert_pem;
  std::string jid;
  std::string serial;  ///< hex, as mbedTLS prints it
  int64_t not_before = 0;
  int64_t not_after = 0;
};

/// Creates DIR (0700 if missing) with ca.key and ca.crt valid `days` from
/// `now`. Refuses (Exit::Usage) when DIR/ca.key exists.
void init(const std::string& dir, int days, int64_t now, const std::string& name = "xiot fleet CA");

/// Signs `csr_pem` with the CA in DIR. `start` = notBefore (Unix s);
/// `expect_jid`, when not empty, must be the CSR's xmppAddr.
Issued sign(const std::string& dir, const std::string& csr_pem, int days, int64_t start,
            const std::string& expect_jid = std::string());

/// The same with the CA's key and certificate given as PEM.
Issued sign_with(const std::string& ca_key_pem, const std::string& ca_cert_pem, const std::string& csr_pem, int days,
                 int64_t start, const std::string& expect_jid = std::string());

/// Reads a whole file (Exit::Usage naming the file when it cannot).
std::string read_file(const std::string& path);

/// Writes a file with `mode` via a temp file + rename (Exit::Usage naming
/// the file when it cannot).
void write_file(const std::string& path, const std::string& text, unsigned mode);

}  // namespace ca
}  // namespace fleet
