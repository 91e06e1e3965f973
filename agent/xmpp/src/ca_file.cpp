// See agent/xmpp/ca_file.hpp.
#include "agent/xmpp/ca_file.hpp"

#include <cstdlib>

namespace agent {

void use_ca_file_for_openssl_defaults(const char* ca_file, SystemCaDirectory dir) {
  if (ca_file == nullptr || ca_file[0] == '\0') return;
  setenv("SSL_CERT_FILE", ca_file, 1);
  if (dir == SystemCaDirectory::Ignore) setenv("SSL_CERT_DIR", "/nonexistent/xiot-no-ca-dir", 1);
}

}  // namespace agent
