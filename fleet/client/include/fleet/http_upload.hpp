// XEP-0363 HTTP File Upload for the operator side: find the upload service,
// ask it for a slot, PUT the file over HTTPS (mbedTLS; certificate and host
// name verified), and hand back the GET URL a device fetches the file from
// (agent::HttpsGet). Used by `xiotctl upload` and `xiotctl firmware push --via http`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fleet/client.hpp"

namespace fleet {

constexpr const char* kNsHttpUpload = "urn:xmpp:http:upload:0";

/// An upload service found by discovery.
struct UploadService {
  std::string jid;         ///< "upload.localhost"
  uint64_t max_size = 0;   ///< its max-file-size (0: it announced none)
};

/// An upload slot (XEP-0363 §5): where to PUT, the headers the PUT must carry
/// (only Authorization, Cookie and Expires are kept, §5.1), where to GET.
struct UploadSlot {
  std::string put_url;
  std::vector<std::pair<std::string, std::string>> put_headers;
  std::string get_url;
};

/// disco#items of the account's domain, then disco#info of each item: the
/// first that offers urn:xmpp:http:upload:0 (the domain itself if it does).
/// Throws Error(Exit::DeviceError) "no XEP-0363 upload service on DOMAIN" when
/// none does, Error(Timeout) at the deadline.
UploadService find_upload_service(Client& client, Deadline deadline);

/// Asks `service` for a slot: <request filename size content-type/>. Throws
/// RemoteError with the service's answer ("file-too-large: ... (at most N
/// bytes)", "not-allowed", ...), Error(DeviceError) for a malformed slot or a
/// non-https PUT/GET URL.
UploadSlot request_upload_slot(Client& client, const std::string& service, const std::string& filename,
                               uint64_t size, const std::string& content_type, Deadline deadline);

/// PUTs `path` (exactly `size` bytes) to the slot over HTTPS with the slot's
/// headers, Content-Length and Content-Type. `ca_file` "" = the system store
/// (/etc/ssl/certs/ca-certificates.crt). Expects 200/201. Throws Error(Connect)
/// for connect/TLS/certificate failures, Error(DeviceError) with the status
/// line for an HTTP error, Error(Usage) for an unreadable file, Error(Timeout).
void http_put_file(const UploadSlot& slot, const std::string& path, uint64_t size, const std::string& content_type,
                   const std::string& ca_file, Deadline deadline);

struct UploadOptions {
  std::string service;  ///< "" = find_upload_service()
  std::string ca_file;  ///< for the HTTPS PUT; "" = the system store
  std::string filename; ///< the slot's file name; "" = basename(path)
};

struct UploadResult {
  std::string get_url;  ///< https://... : what a device fetches
  std::string service;
  uint64_t size = 0;
  double put_seconds = 0;  ///< the PUT alone (connect + TLS + body + answer)
};

/// The whole upload: service (given or discovered), size check against its
/// max-file-size, slot, PUT. `client` must be connected.
UploadResult upload_file(Client& client, const std::string& path, const std::string& content_type,
                         const UploadOptions& options, Deadline deadline);

}  // namespace fleet
