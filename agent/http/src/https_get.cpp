// agent::HttpsGet on mbedTLS (ssl, x509, net_sockets for send/recv) and a
// non-blocking POSIX connect. See the header for the rules.
#include "agent/https_get.hpp"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

namespace agent {

struct HttpsGet::Impl {
  mbedtls_net_context net;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt ca;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  bool seeded = false;
  bool ssl_ready = false;  // ssl/conf/ca set up for the current start()
  // The resolved addresses (a name with IPv6 and IPv4 ones: the next is tried
  // when a connect fails), copied out of getaddrinfo's list.
  static constexpr size_t kMaxAddrs = 4;
  struct sockaddr_storage addrs[kMaxAddrs];
  socklen_t addr_lens[kMaxAddrs] = {};
  size_t n_addrs = 0;
  size_t next_addr = 0;
  int last_errno = 0;
};

namespace {

bool ieq_prefix(const char* s, const char* prefix) {
  for (; *prefix; ++s, ++prefix) {
    char a = *s, b = *prefix;
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

bool copy_part(char* dst, size_t cap, const char* src, size_t len) {
  if (len >= cap) return false;
  std::memcpy(dst, src, len);
  dst[len] = '\0';
  return true;
}

// A decimal uint64 at s (no sign); end is where it stopped. false if none or overflow.
bool parse_u64(const char* s, uint64_t& out, const char** end) {
  if (*s < '0' || *s > '9') return false;
  uint64_t v = 0;
  for (; *s >= '0' && *s <= '9'; ++s) {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(*s - '0');
  }
  out = v;
  if (end != nullptr) *end = s;
  return true;
}

const char* skip_ws(const char* s) {
  while (*s == ' ' || *s == '\t') ++s;
  return s;
}

}  // namespace

hal::Err parse_https_url(const char* url, HttpsUrl& out, const char** why) {
  const char* dummy = nullptr;
  const char*& reason = why != nullptr ? *why : dummy;
  reason = "";
  if (url == nullptr || *url == '\0') {
    reason = "empty URL";
    return hal::Err::InvalidArgument;
  }
  if (ieq_prefix(url, "http://")) {
    reason = "http:// refused: only https:// URLs are fetched";
    return hal::Err::InvalidArgument;
  }
  if (!ieq_prefix(url, "https://")) {
    reason = "not an https:// URL";
    return hal::Err::InvalidArgument;
  }
  const char* p = url + 8;
  const char* auth_end = p + std::strcspn(p, "/?#");
  if (std::memchr(p, '@', static_cast<size_t>(auth_end - p)) != nullptr) {
    reason = "user info in the URL is refused";
    return hal::Err::InvalidArgument;
  }
  if (*p == '[') {
    reason = "IPv6 literal hosts are not supported";
    return hal::Err::InvalidArgument;
  }
  const char* colon = static_cast<const char*>(std::memchr(p, ':', static_cast<size_t>(auth_end - p)));
  const char* host_end = colon != nullptr ? colon : auth_end;
  if (host_end == p) {
    reason = "no host in the URL";
    return hal::Err::InvalidArgument;
  }
  for (const char* c = p; c < host_end; ++c) {
    bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '-';
    if (!ok) {
      reason = "bad character in the URL's host";
      return hal::Err::InvalidArgument;
    }
  }
  if (!copy_part(out.host, sizeof out.host, p, static_cast<size_t>(host_end - p))) {
    reason = "host too long";
    return hal::Err::InvalidArgument;
  }
  if (colon != nullptr) {
    const char* e = nullptr;
    uint64_t port = 0;
    if (!parse_u64(colon + 1, port, &e) || e != auth_end || port == 0 || port > 65535) {
      reason = "bad port in the URL";
      return hal::Err::InvalidArgument;
    }
    std::snprintf(out.port, sizeof out.port, "%u", static_cast<unsigned>(port));
  } else {
    std::snprintf(out.port, sizeof out.port, "443");
  }
  // Path and query; a fragment is not sent.
  size_t rest = std::strcspn(auth_end, "#");
  for (size_t i = 0; i < rest; ++i) {
    unsigned char c = static_cast<unsigned char>(auth_end[i]);
    if (c <= 0x20 || c >= 0x7f) {
      reason = "unescaped space or control character in the URL's path";
      return hal::Err::InvalidArgument;
    }
  }
  if (rest == 0 || auth_end[0] != '/') {
    if (rest + 1 >= sizeof out.path) {
      reason = "path too long";
      return hal::Err::InvalidArgument;
    }
    out.path[0] = '/';
    std::memcpy(out.path + 1, auth_end, rest);
    out.path[rest + 1] = '\0';
  } else if (!copy_part(out.path, sizeof out.path, auth_end, rest)) {
    reason = "path too long";
    return hal::Err::InvalidArgument;
  }
  return hal::Err::Ok;
}

HttpsGet::HttpsGet(hal::MonotonicClock& clock) : HttpsGet(clock, Options{}) {}

HttpsGet::HttpsGet(hal::MonotonicClock& clock, Options options)
    : clock_(clock), options_(options), impl_(new Impl) {
  mbedtls_net_init(&impl_->net);
  mbedtls_ssl_init(&impl_->ssl);
  mbedtls_ssl_config_init(&impl_->conf);
  mbedtls_x509_crt_init(&impl_->ca);
  mbedtls_entropy_init(&impl_->entropy);
  mbedtls_ctr_drbg_init(&impl_->drbg);
}

HttpsGet::~HttpsGet() {
  close_connection();
  mbedtls_ctr_drbg_free(&impl_->drbg);
  mbedtls_entropy_free(&impl_->entropy);
  delete impl_;
}

hal::Err HttpsGet::fail(hal::Err e, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(text_, sizeof text_, fmt, ap);
  va_end(ap);
  err_ = e;
  state_ = State::Failed;
  close_connection();
  return e;
}

void HttpsGet::close_connection() {
  if (impl_->ssl_ready) {
    if (state_ == State::Body || state_ == State::Headers || state_ == State::Request) {
      (void)mbedtls_ssl_close_notify(&impl_->ssl);  // best effort, non-blocking
    }
    mbedtls_ssl_free(&impl_->ssl);
    mbedtls_ssl_config_free(&impl_->conf);
    mbedtls_x509_crt_free(&impl_->ca);
    mbedtls_ssl_init(&impl_->ssl);
    mbedtls_ssl_config_init(&impl_->conf);
    mbedtls_x509_crt_init(&impl_->ca);
    impl_->ssl_ready = false;
  }
  mbedtls_net_free(&impl_->net);  // closes the fd (if any), fd = -1
}

void HttpsGet::stop() {
  close_connection();
  if (running()) state_ = State::Idle;
}

int HttpsGet::fd() const { return running() ? impl_->net.fd : -1; }

void HttpsGet::touch() { last_progress_ = clock_.mono_now(); }

bool HttpsGet::timed_out() { return clock_.mono_now().us_since(last_progress_) >= options_.timeout_ms * 1000; }

hal::Err HttpsGet::start(const char* url, uint64_t offset, const char* ca_file, uint64_t expected_total) {
  close_connection();
  state_ = State::Idle;
  err_ = hal::Err::Ok;
  text_[0] = '\0';
  offset_ = offset;
  expected_total_ = expected_total;
  skip_ = 0;
  body_len_ = body_read_ = written_ = total_ = 0;
  status_ = 0;
  head_len_ = pending_pos_ = 0;
  request_len_ = request_sent_ = 0;

  const char* why = nullptr;
  if (parse_https_url(url, url_, &why) != hal::Err::Ok) {
    return fail(hal::Err::InvalidArgument, "bad download URL: %s", why);
  }
  if (ca_file == nullptr || *ca_file == '\0') {
    return fail(hal::Err::InvalidArgument, "no CA file to verify %s with", url_.host);
  }
  Impl& m = *impl_;
  if (!m.seeded) {
    static const char kPers[] = "xiot-https-get";
    if (mbedtls_ctr_drbg_seed(&m.drbg, mbedtls_entropy_func, &m.entropy,
                              reinterpret_cast<const unsigned char*>(kPers), sizeof kPers - 1) != 0) {
      return fail(hal::Err::Io, "cannot seed the TLS random generator");
    }
    m.seeded = true;
  }
  m.ssl_ready = true;
  int rc = mbedtls_x509_crt_parse_file(&m.ca, ca_file);
  if (rc < 0 || m.ca.version == 0) {
    return fail(hal::Err::InvalidArgument, "CA file %s: no readable PEM certificate (mbedTLS -0x%04x)", ca_file,
                static_cast<unsigned>(-rc));
  }
  if ((rc = mbedtls_ssl_config_defaults(&m.conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
    return fail(hal::Err::Io, "TLS configuration failed (mbedTLS -0x%04x)", static_cast<unsigned>(-rc));
  }
  mbedtls_ssl_conf_authmode(&m.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&m.conf, &m.ca, nullptr);
  mbedtls_ssl_conf_rng(&m.conf, mbedtls_ctr_drbg_random, &m.drbg);
  mbedtls_ssl_conf_min_version(&m.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);  // TLS 1.2
  if ((rc = mbedtls_ssl_setup(&m.ssl, &m.conf)) != 0 || (rc = mbedtls_ssl_set_hostname(&m.ssl, url_.host)) != 0) {
    return fail(hal::Err::Io, "TLS setup failed (mbedTLS -0x%04x)", static_cast<unsigned>(-rc));
  }

  // The request, once: fixed buffer.
  int n;
  if (offset > 0) {
    n = std::snprintf(request_, sizeof request_,
                      "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: xiot-agent\r\nAccept-Encoding: identity\r\n"
                      "Range: bytes=%" PRIu64 "-\r\nConnection: close\r\n\r\n",
                      url_.path, url_.host, url_.port, offset);
  } else {
    n = std::snprintf(request_, sizeof request_,
                      "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: xiot-agent\r\nAccept-Encoding: identity\r\n"
                      "Connection: close\r\n\r\n",
                      url_.path, url_.host, url_.port);
  }
  if (n < 0 || static_cast<size_t>(n) >= sizeof request_) return fail(hal::Err::InvalidArgument, "URL too long");
  request_len_ = static_cast<size_t>(n);

  // Name resolution (getaddrinfo: blocking, bounded by the resolver's own
  // timeouts; a numeric or /etc/hosts name answers at once), then a
  // non-blocking connect that pump() completes.
  struct addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  struct addrinfo* res = nullptr;
  if ((rc = getaddrinfo(url_.host, url_.port, &hints, &res)) != 0 || res == nullptr) {
    return fail(hal::Err::Io, "cannot resolve %s: %s", url_.host, gai_strerror(rc));
  }
  m.n_addrs = m.next_addr = 0;
  m.last_errno = 0;
  for (struct addrinfo* ai = res; ai != nullptr && m.n_addrs < Impl::kMaxAddrs; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof m.addrs[0]) continue;
    std::memcpy(&m.addrs[m.n_addrs], ai->ai_addr, ai->ai_addrlen);
    m.addr_lens[m.n_addrs++] = ai->ai_addrlen;
  }
  freeaddrinfo(res);
  mbedtls_ssl_set_bio(&m.ssl, &m.net, mbedtls_net_send, mbedtls_net_recv, nullptr);
  state_ = State::Connecting;
  touch();
  return connect_next();
}

hal::Err HttpsGet::connect_next() {
  Impl& m = *impl_;
  mbedtls_net_free(&m.net);
  while (m.next_addr < m.n_addrs) {
    const size_t i = m.next_addr++;
    const auto* sa = reinterpret_cast<const struct sockaddr*>(&m.addrs[i]);
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
    if (fd < 0) {
      m.last_errno = errno;
      continue;
    }
    if (connect(fd, sa, m.addr_lens[i]) == 0 || errno == EINPROGRESS) {
      m.net.fd = fd;
      return hal::Err::Ok;
    }
    m.last_errno = errno;
    ::close(fd);
  }
  return fail(hal::Err::Io, "cannot connect to %s:%s: %s", url_.host, url_.port,
              m.last_errno != 0 ? std::strerror(m.last_errno) : "no address");
}

hal::Err HttpsGet::step_connect() {
  struct pollfd p;
  p.fd = impl_->net.fd;
  p.events = POLLOUT;
  p.revents = 0;
  int r = poll(&p, 1, 0);
  if (r == 0) return hal::Err::Ok;  // still connecting
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (r < 0 || getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
    impl_->last_errno = so_error != 0 ? so_error : errno;
    touch();
    return connect_next();  // the next address, or the error
  }
  state_ = State::Handshake;
  touch();
  return hal::Err::Ok;
}

hal::Err HttpsGet::step_handshake() {
  int rc = mbedtls_ssl_handshake(&impl_->ssl);
  if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return hal::Err::Ok;
  if (rc != 0) {
    uint32_t flags = mbedtls_ssl_get_verify_result(&impl_->ssl);
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || (flags != 0 && flags != static_cast<uint32_t>(-1))) {
      char info[160];
      int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
      if (n < 0) n = 0;
      info[n > 0 ? n - 1 : 0] = '\0';  // drop the trailing newline
      for (char* c = info; *c; ++c)
        if (*c == '\n') *c = ';';
      return fail(hal::Err::Corrupt, "certificate of %s not trusted: %s", url_.host, info);
    }
    char msg[100];
    mbedtls_strerror(rc, msg, sizeof msg);
    return fail(hal::Err::Io, "TLS handshake with %s:%s failed: %s", url_.host, url_.port, msg);
  }
  state_ = State::Request;
  touch();
  return hal::Err::Ok;
}

hal::Err HttpsGet::step_request() {
  while (request_sent_ < request_len_) {
    int rc = mbedtls_ssl_write(&impl_->ssl, reinterpret_cast<const unsigned char*>(request_) + request_sent_,
                               request_len_ - request_sent_);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return hal::Err::Ok;
    if (rc < 0) {
      char msg[100];
      mbedtls_strerror(rc, msg, sizeof msg);
      return fail(hal::Err::Io, "sending the request to %s failed: %s", url_.host, msg);
    }
    request_sent_ += static_cast<size_t>(rc);
    touch();
  }
  state_ = State::Headers;
  return hal::Err::Ok;
}

hal::Err HttpsGet::step_headers() {
  for (;;) {
    if (head_len_ >= sizeof head_) {
      return fail(hal::Err::InvalidArgument, "response headers from %s longer than %zu bytes", url_.host,
                  sizeof head_);
    }
    int rc = mbedtls_ssl_read(&impl_->ssl, head_ + head_len_, sizeof head_ - head_len_);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return hal::Err::Ok;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_NET_CONN_RESET) {
      return fail(hal::Err::Io, "%s closed the connection before the response headers", url_.host);
    }
    if (rc < 0) {
      char msg[100];
      mbedtls_strerror(rc, msg, sizeof msg);
      return fail(hal::Err::Io, "reading the response from %s failed: %s", url_.host, msg);
    }
    size_t scan_from = head_len_ >= 3 ? head_len_ - 3 : 0;
    head_len_ += static_cast<size_t>(rc);
    touch();
    for (size_t i = scan_from; i + 3 < head_len_; ++i) {
      if (head_[i] == '\r' && head_[i + 1] == '\n' && head_[i + 2] == '\r' && head_[i + 3] == '\n') {
        return parse_headers(i + 4);
      }
    }
  }
}

hal::Err HttpsGet::parse_headers(size_t header_len) {
  pending_pos_ = header_len;
  // NUL-terminate the header block in place (its last "\n" becomes '\0'; the
  // lines before still end in "\r\n").
  char* h = reinterpret_cast<char*>(head_);
  h[header_len - 1] = '\0';
  // Status line.
  char* eol = std::strstr(h, "\r\n");
  if (eol == nullptr) return fail(hal::Err::InvalidArgument, "malformed response from %s", url_.host);
  *eol = '\0';
  const char* line = h;
  if (std::strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' || line[9] < '1' || line[9] > '5') {
    return fail(hal::Err::InvalidArgument, "not an HTTP/1.x response from %s: \"%.60s\"", url_.host, line);
  }
  status_ = std::atoi(line + 9);
  bool have_length = false;
  bool chunked = false;
  bool have_range = false;
  uint64_t range_first = 0, range_last = 0, range_total = 0;
  const char* location = "";
  for (char* l = eol + 2; *l != '\0';) {
    char* e = std::strstr(l, "\r\n");
    if (e != nullptr) *e = '\0';
    if (ieq_prefix(l, "content-length:")) {
      const char* end = nullptr;
      const char* v = skip_ws(l + 15);
      if (!parse_u64(v, body_len_, &end) || *skip_ws(end) != '\0') {
        return fail(hal::Err::InvalidArgument, "bad Content-Length from %s: \"%.40s\"", url_.host, v);
      }
      have_length = true;
    } else if (ieq_prefix(l, "transfer-encoding:")) {
      chunked = true;  // anything but identity (which is not sent any more)
    } else if (ieq_prefix(l, "content-range:")) {
      const char* v = skip_ws(l + 14);
      const char* end = nullptr;
      if (!ieq_prefix(v, "bytes ") || !parse_u64(v + 6, range_first, &end) || *end != '-' ||
          !parse_u64(end + 1, range_last, &end) || *end != '/' || !parse_u64(end + 1, range_total, &end)) {
        return fail(hal::Err::InvalidArgument, "bad Content-Range from %s: \"%.60s\"", url_.host, v);
      }
      have_range = true;
    } else if (ieq_prefix(l, "location:")) {
      location = skip_ws(l + 9);
    }
    if (e == nullptr) break;
    l = e + 2;
  }
  if (status_ >= 300 && status_ < 400) {
    return fail(hal::Err::NotSupported, "redirect not followed: %s from %s to \"%.100s\"", line, url_.host,
                location);
  }
  if (status_ == 404 || status_ == 410) return fail(hal::Err::NotFound, "%s from %s", line, url_.host);
  if (status_ >= 400 && status_ < 500) return fail(hal::Err::InvalidArgument, "%s from %s", line, url_.host);
  if (status_ >= 500) return fail(hal::Err::Busy, "%s from %s", line, url_.host);
  if (status_ != 200 && status_ != 206) {
    return fail(hal::Err::InvalidArgument, "unexpected %s from %s", line, url_.host);
  }
  if (chunked) return fail(hal::Err::NotSupported, "chunked response from %s (a length is required)", url_.host);
  if (!have_length) return fail(hal::Err::InvalidArgument, "no Content-Length from %s", url_.host);
  if (status_ == 206) {
    if (offset_ == 0 && !have_range) {
      return fail(hal::Err::InvalidArgument, "206 without Content-Range from %s", url_.host);
    }
    // RFC 9110: "bytes first-last/total" with last = total - 1. Prosody 0.12's
    // mod_http_file_share sends last = total: accepted too. The body length
    // must match what is left.
    if (!have_range || range_first != offset_ || range_total <= offset_ ||
        (range_last != range_total - 1 && range_last != range_total) || body_len_ != range_total - offset_) {
      return fail(hal::Err::InvalidArgument,
                  "wrong Content-Range from %s for bytes=%" PRIu64 "-: %" PRIu64 "-%" PRIu64 "/%" PRIu64
                  " with Content-Length %" PRIu64,
                  url_.host, offset_, range_first, range_last, range_total, body_len_);
    }
    total_ = range_total;
  } else {
    // 200: the whole resource. A resumed GET the server answered in full: drop
    // what the sink already has.
    if (body_len_ < offset_) {
      return fail(hal::Err::InvalidArgument,
                  "%s has %" PRIu64 " bytes, fewer than the %" PRIu64 " already received", url_.host, body_len_,
                  offset_);
    }
    skip_ = offset_;
    total_ = body_len_;
  }
  if (expected_total_ != 0 && total_ != expected_total_) {
    return fail(hal::Err::InvalidArgument, "%s serves %" PRIu64 " bytes, %" PRIu64 " expected", url_.host, total_,
                expected_total_);
  }
  state_ = State::Body;
  return hal::Err::Ok;
}

hal::Err HttpsGet::deliver(ByteSink& sink, const uint8_t* data, size_t len) {
  body_read_ += len;
  if (skip_ > 0) {
    size_t drop = skip_ < len ? static_cast<size_t>(skip_) : len;
    skip_ -= drop;
    data += drop;
    len -= drop;
  }
  if (len == 0) return hal::Err::Ok;
  uint64_t at = offset_ + written_;
  if (sink.received() != at) {
    return fail(hal::Err::InvalidArgument,
                "the sink is at %" PRIu64 " but the download delivers byte %" PRIu64 " (start at sink.received())",
                sink.received(), at);
  }
  hal::Err e = sink.write(at, data, len);
  if (e != hal::Err::Ok) {
    return fail(e, "storing %zu bytes at %" PRIu64 " failed: %s", len, at, hal::err_name(e));
  }
  written_ += len;
  return hal::Err::Ok;
}

hal::Err HttpsGet::step_body(ByteSink& sink, size_t budget) {
  size_t used = 0;
  // Body bytes that came with the headers.
  if (pending_pos_ < head_len_) {
    size_t n = head_len_ - pending_pos_;
    if (n > body_len_ - body_read_) n = static_cast<size_t>(body_len_ - body_read_);
    if (n > budget) n = budget;
    hal::Err e = deliver(sink, head_ + pending_pos_, n);
    if (e != hal::Err::Ok) return e;
    pending_pos_ += n;
    used += n;
    if (body_read_ == body_len_) pending_pos_ = head_len_;  // anything after the body is ignored
  }
  while (body_read_ < body_len_ && used < budget) {
    if (pending_pos_ < head_len_) return hal::Err::Ok;  // budget spent on the pending bytes
    size_t want = sizeof buf_;
    if (want > budget - used) want = budget - used;
    if (want > body_len_ - body_read_) want = static_cast<size_t>(body_len_ - body_read_);
    int rc = mbedtls_ssl_read(&impl_->ssl, buf_, want);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return hal::Err::Ok;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == MBEDTLS_ERR_NET_CONN_RESET) {
      return fail(hal::Err::Io,
                  "short body: %s closed the connection after %" PRIu64 " of %" PRIu64 " bytes (resume from %" PRIu64
                  ")",
                  url_.host, body_read_, body_len_, offset_ + written_);
    }
    if (rc < 0) {
      char msg[100];
      mbedtls_strerror(rc, msg, sizeof msg);
      return fail(hal::Err::Io, "reading the body from %s failed after %" PRIu64 " of %" PRIu64 " bytes: %s",
                  url_.host, body_read_, body_len_, msg);
    }
    touch();
    hal::Err e = deliver(sink, buf_, static_cast<size_t>(rc));
    if (e != hal::Err::Ok) return e;
    used += static_cast<size_t>(rc);
  }
  if (body_read_ == body_len_) {
    close_connection();
    state_ = State::Done;
  }
  return hal::Err::Ok;
}

hal::Err HttpsGet::pump(ByteSink& sink, size_t budget) {
  if (state_ == State::Failed) return err_;
  if (state_ == State::Idle || state_ == State::Done) return hal::Err::Ok;
  hal::MonoTime before = last_progress_;
  hal::Err e = hal::Err::Ok;
  if (state_ == State::Connecting) e = step_connect();
  if (e == hal::Err::Ok && state_ == State::Handshake) e = step_handshake();
  if (e == hal::Err::Ok && state_ == State::Request) e = step_request();
  if (e == hal::Err::Ok && state_ == State::Headers) e = step_headers();
  if (e == hal::Err::Ok && state_ == State::Body) e = step_body(sink, budget);
  if (e != hal::Err::Ok) return e;
  if (running() && last_progress_ == before && timed_out()) {
    static const char* const kWhat[] = {"", "connecting to", "the TLS handshake with", "sending the request to",
                                        "waiting for the response headers from", "waiting for body bytes from"};
    return fail(hal::Err::Timeout, "timeout: no progress for %" PRId64 " ms %s %s:%s", options_.timeout_ms,
                kWhat[static_cast<int>(state_)], url_.host, url_.port);
  }
  return hal::Err::Ok;
}

}  // namespace agent
