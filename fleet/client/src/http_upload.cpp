// XEP-0363 slots over the operator client and the HTTPS PUT on mbedTLS.
#include "fleet/http_upload.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "agent/https_get.hpp"
#include "fleet/error.hpp"
#include "fleet/options.hpp"

namespace fleet {

namespace {

constexpr const char* kNsDiscoItems = "http://jabber.org/protocol/disco#items";
constexpr const char* kNsDiscoInfo = "http://jabber.org/protocol/disco#info";
constexpr const char* kNsData = "jabber:x:data";
constexpr const char* kSystemCa = "/etc/ssl/certs/ca-certificates.crt";

std::string describe(const IqReply& r) { return r.error.describe(); }

// The service's max-file-size from its disco#info form (XEP-0363 §3), 0 if none.
uint64_t max_size_of(const XmlElement& info) {
  for (const XmlElement& x : info.children) {
    if (x.name != "x" || x.ns != kNsData) continue;
    bool ours = false;
    std::string max;
    for (const XmlElement& f : x.children) {
      const std::string* var = f.attr("var");
      if (var == nullptr) continue;
      if (*var == "FORM_TYPE" && f.child_text("value") == kNsHttpUpload) ours = true;
      if (*var == "max-file-size") max = f.child_text("value");
    }
    if (ours && !max.empty()) return std::strtoull(max.c_str(), nullptr, 10);
  }
  return 0;
}

bool offers_upload(const XmlElement& info) {
  for (const XmlElement& f : info.children) {
    const std::string* var = f.attr("var");
    if (f.name == "feature" && var != nullptr && *var == kNsHttpUpload) return true;
  }
  return false;
}

bool safe_header_value(const std::string& v) {
  for (char c : v) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

std::string mbed_error(int rc) {
  char msg[128];
  mbedtls_strerror(rc, msg, sizeof msg);
  return msg;
}

int ms_left(Deadline deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms <= 0 ? 0 : static_cast<int>(std::min<long long>(ms, 600000));
}

// mbedTLS contexts for one blocking HTTPS request.
struct Tls {
  mbedtls_net_context net;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt ca;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  Tls() {
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
  }
  ~Tls() {
    mbedtls_net_free(&net);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
  Tls(const Tls&) = delete;
  Tls& operator=(const Tls&) = delete;
};

void write_all(Tls& t, const unsigned char* p, size_t len, Deadline deadline, const std::string& where) {
  while (len > 0) {
    if (Clock::now() >= deadline) throw Error(Exit::Timeout, "timed out uploading to " + where, true);
    int rc = mbedtls_ssl_write(&t.ssl, p, len);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (rc < 0) throw Error(Exit::Connect, "upload to " + where + " failed: " + mbed_error(rc), true);
    p += rc;
    len -= static_cast<size_t>(rc);
  }
}

}  // namespace

UploadService find_upload_service(Client& client, Deadline deadline) {
  const std::string domain = jid_domain(client.bare());
  auto has_upload = [&](const std::string& jid) -> std::unique_ptr<UploadService> {
    IqReply r = client.request(jid, "get", make_element("query", kNsDiscoInfo), deadline, "disco#info");
    if (!r.ok || !r.has_payload || !offers_upload(r.payload)) return nullptr;
    auto s = std::make_unique<UploadService>();
    s->jid = jid;
    s->max_size = max_size_of(r.payload);
    return s;
  };
  if (auto s = has_upload(domain)) return *s;
  IqReply items = client.request(domain, "get", make_element("query", kNsDiscoItems), deadline, "disco#items");
  if (!items.ok) throw Error(Exit::DeviceError, "disco#items of " + domain + " failed: " + describe(items));
  for (const XmlElement& item : items.payload.children) {
    const std::string* jid = item.attr("jid");
    if (item.name != "item" || jid == nullptr || jid->empty()) continue;
    if (auto s = has_upload(*jid)) return *s;
  }
  throw Error(Exit::DeviceError, "no XEP-0363 upload service on " + domain +
                                     " (none of its disco#items offers urn:xmpp:http:upload:0)");
}

UploadSlot request_upload_slot(Client& client, const std::string& service, const std::string& filename,
                               uint64_t size, const std::string& content_type, Deadline deadline) {
  XmlElement req = make_element("request", kNsHttpUpload);
  req.set("filename", filename).set("size", std::to_string(size)).set("content-type", content_type);
  IqReply r = client.request(service, "get", req, deadline, "an upload slot");
  if (!r.ok) {
    std::string msg = "upload slot for " + filename + " refused by " + service + ": " + describe(r);
    throw RemoteError(msg, r.error);
  }
  const XmlElement* put = r.has_payload ? r.payload.child("put") : nullptr;
  const XmlElement* get = r.has_payload ? r.payload.child("get") : nullptr;
  if (r.payload.name != "slot" || put == nullptr || get == nullptr || put->attr("url") == nullptr ||
      get->attr("url") == nullptr) {
    throw Error(Exit::DeviceError, service + " answered the slot request without <slot><put url/><get url/></slot>");
  }
  UploadSlot slot;
  slot.put_url = *put->attr("url");
  slot.get_url = *get->attr("url");
  agent::HttpsUrl parsed;
  const char* why = nullptr;
  for (const std::string* u : {&slot.put_url, &slot.get_url}) {
    if (agent::parse_https_url(u->c_str(), parsed, &why) != hal::Err::Ok) {
      throw Error(Exit::DeviceError, service + " gave an unusable slot URL '" + *u + "': " + why);
    }
  }
  for (const XmlElement& h : put->children) {
    const std::string* name = h.attr("name");
    if (h.name != "header" || name == nullptr) continue;
    std::string lower;
    for (char c : *name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // XEP-0363 §5.1: only these; anything else is dropped. No line breaks.
    if ((lower == "authorization" || lower == "cookie" || lower == "expires") && safe_header_value(h.text)) {
      slot.put_headers.emplace_back(*name, h.text);
    }
  }
  return slot;
}

void http_put_file(const UploadSlot& slot, const std::string& path, uint64_t size, const std::string& content_type,
                   const std::string& ca_file, Deadline deadline) {
  agent::HttpsUrl u;
  const char* why = nullptr;
  if (agent::parse_https_url(slot.put_url.c_str(), u, &why) != hal::Err::Ok) {
    throw Error(Exit::DeviceError, "PUT URL '" + slot.put_url + "': " + why);
  }
  if (!safe_header_value(content_type)) throw Error(Exit::Usage, "content type with a line break");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(Exit::Usage, path + ": " + std::strerror(errno));
  const std::string where = std::string(u.host) + ":" + u.port;

  Tls t;
  static const char kPers[] = "xiotctl-upload";
  int rc = mbedtls_ctr_drbg_seed(&t.drbg, mbedtls_entropy_func, &t.entropy,
                                 reinterpret_cast<const unsigned char*>(kPers), sizeof kPers - 1);
  if (rc != 0) throw Error(Exit::Connect, "cannot seed the TLS random generator: " + mbed_error(rc));
  const std::string ca = ca_file.empty() ? kSystemCa : ca_file;
  rc = mbedtls_x509_crt_parse_file(&t.ca, ca.c_str());
  if (rc < 0 || t.ca.version == 0) throw Error(Exit::Usage, ca + ": no readable PEM certificate");
  if ((rc = mbedtls_ssl_config_defaults(&t.conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
    throw Error(Exit::Connect, "TLS configuration failed: " + mbed_error(rc));
  }
  mbedtls_ssl_conf_authmode(&t.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&t.conf, &t.ca, nullptr);
  mbedtls_ssl_conf_rng(&t.conf, mbedtls_ctr_drbg_random, &t.drbg);
  mbedtls_ssl_conf_min_version(&t.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_read_timeout(&t.conf, static_cast<uint32_t>(std::max(1, ms_left(deadline))));
  if ((rc = mbedtls_ssl_setup(&t.ssl, &t.conf)) != 0 || (rc = mbedtls_ssl_set_hostname(&t.ssl, u.host)) != 0) {
    throw Error(Exit::Connect, "TLS setup failed: " + mbed_error(rc));
  }
  if ((rc = mbedtls_net_connect(&t.net, u.host, u.port, MBEDTLS_NET_PROTO_TCP)) != 0) {
    throw Error(Exit::Connect, "cannot connect to " + where + " for the upload: " + mbed_error(rc), true);
  }
  mbedtls_ssl_set_bio(&t.ssl, &t.net, mbedtls_net_send, nullptr, mbedtls_net_recv_timeout);
  while ((rc = mbedtls_ssl_handshake(&t.ssl)) != 0) {
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    uint32_t flags = mbedtls_ssl_get_verify_result(&t.ssl);
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || (flags != 0 && flags != static_cast<uint32_t>(-1))) {
      char info[256];
      int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
      std::string s(info, n > 0 ? static_cast<size_t>(n) : 0);
      while (!s.empty() && s.back() == '\n') s.pop_back();
      for (char& c : s)
        if (c == '\n') c = ';';
      throw Error(Exit::Connect, "TLS certificate of " + where + " not trusted: " + s);
    }
    if (rc == MBEDTLS_ERR_SSL_TIMEOUT) throw Error(Exit::Timeout, "timed out in the TLS handshake with " + where, true);
    throw Error(Exit::Connect, "TLS handshake with " + where + " failed: " + mbed_error(rc), true);
  }

  std::string head = std::string("PUT ") + u.path + " HTTP/1.1\r\nHost: " + u.host + ":" + u.port +
                     "\r\nUser-Agent: xiotctl\r\nContent-Length: " + std::to_string(size) +
                     "\r\nContent-Type: " + content_type + "\r\nConnection: close\r\n";
  for (const auto& h : slot.put_headers) head += h.first + ": " + h.second + "\r\n";
  head += "\r\n";
  write_all(t, reinterpret_cast<const unsigned char*>(head.data()), head.size(), deadline, where);
  std::vector<unsigned char> buf(64 * 1024);
  uint64_t sent = 0;
  while (sent < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - sent));
    size_t got = std::fread(buf.data(), 1, want, f.get());
    if (got == 0) throw Error(Exit::Usage, path + " changed while uploading (ended at " + std::to_string(sent) + ")");
    write_all(t, buf.data(), got, deadline, where);
    sent += got;
  }

  // The status line (the rest of the answer is not needed).
  std::string answer;
  char rbuf[1024];
  while (answer.find("\r\n") == std::string::npos) {
    mbedtls_ssl_conf_read_timeout(&t.conf, static_cast<uint32_t>(std::max(1, ms_left(deadline))));
    rc = mbedtls_ssl_read(&t.ssl, reinterpret_cast<unsigned char*>(rbuf), sizeof rbuf);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
    if (rc == MBEDTLS_ERR_SSL_TIMEOUT) throw Error(Exit::Timeout, "timed out waiting for " + where + "'s answer", true);
    if (rc <= 0) throw Error(Exit::Connect, where + " closed the connection without answering the upload", true);
    answer.append(rbuf, static_cast<size_t>(rc));
    if (answer.size() > 16384) break;
  }
  (void)mbedtls_ssl_close_notify(&t.ssl);
  const std::string status = answer.substr(0, answer.find("\r\n"));
  if (status.compare(0, 9, "HTTP/1.1 ") != 0 && status.compare(0, 9, "HTTP/1.0 ") != 0) {
    throw Error(Exit::DeviceError, "not an HTTP answer from " + where + ": '" + status.substr(0, 60) + "'");
  }
  const int code = std::atoi(status.c_str() + 9);
  if (code != 200 && code != 201) throw Error(Exit::DeviceError, "upload refused by " + where + ": " + status);
}

UploadResult upload_file(Client& client, const std::string& path, const std::string& content_type,
                         const UploadOptions& options, Deadline deadline) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw Error(Exit::Usage, path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw Error(Exit::Usage, path + ": not a regular file");
  UploadResult res;
  res.size = static_cast<uint64_t>(st.st_size);
  UploadService svc;
  if (options.service.empty()) {
    svc = find_upload_service(client, deadline);
  } else {
    svc.jid = options.service;
  }
  res.service = svc.jid;
  if (svc.max_size != 0 && res.size > svc.max_size) {
    throw Error(Exit::Usage, path + " is " + std::to_string(res.size) + " bytes; " + svc.jid + " takes at most " +
                                 std::to_string(svc.max_size));
  }
  std::string name = options.filename;
  if (name.empty()) {
    size_t slash = path.find_last_of('/');
    name = slash == std::string::npos ? path : path.substr(slash + 1);
  }
  UploadSlot slot = request_upload_slot(client, svc.jid, name, res.size, content_type, deadline);
  auto t0 = Clock::now();
  http_put_file(slot, path, res.size, content_type, options.ca_file, deadline);
  res.put_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  res.get_url = slot.get_url;
  return res;
}

}  // namespace fleet
