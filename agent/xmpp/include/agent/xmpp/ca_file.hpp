// The `ca_file` -> SSL_CERT_FILE workaround (shared/DESIGN.md, "libstrophe 0.12
// facts"), in one place for xiot-agent, xiot-fleet-sim and xiotctl.
//
// Debian's libstrophe (OpenSSL backend) loads OpenSSL's default verify paths
// on every connect even when a CA file is set: the whole system CA bundle,
// about 50 ms of CPU and 1 MiB of RSS per login. Pointing the default file at
// the configured CA file avoids that.
#pragma once

#include <cstdint>

namespace agent {

/// What happens to OpenSSL's default CA directory (hashed certificates,
/// looked up per certificate, so cheap) besides the default file.
enum class SystemCaDirectory : uint8_t {
  Keep,    ///< still consulted (xiot-agent and the fleet simulator)
  Ignore,  ///< pointed at a directory that does not exist: `ca_file` is the only CA (xiotctl)
};

/// Sets SSL_CERT_FILE to `ca_file` (and, with Ignore, SSL_CERT_DIR to a
/// directory that does not exist) for this process, before the first
/// connection. Does nothing when `ca_file` is null or empty (the system store
/// is wanted then). The environment is process-wide: every libstrophe
/// context of the process sees it. No errors (setenv fails only without memory).
void use_ca_file_for_openssl_defaults(const char* ca_file, SystemCaDirectory dir);

}  // namespace agent
