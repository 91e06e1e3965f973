// A resumable HTTPS GET for the agent's loop: one download (an update image
// behind an XEP-0363 URL) into an agent::ByteSink, without blocking and
// without heap use per message (fixed buffers; mbedTLS allocates its session
// buffers once per start()).
//
// Rules it enforces: https:// only; the server certificate is verified against
// the given CA file and the URL's host name; no redirects; the body length
// must be known (Content-Length) and must arrive in full; a resumed GET
// (offset > 0) sends `Range: bytes=offset-` and accepts 206 with a matching
// Content-Range, or 200 (a server that ignores Range: the first `offset`
// bytes are read and dropped). A lost connection is an error; the caller
// resumes with start(url, sink.received(), ca_file).
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/byte_sink.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"

namespace agent {

/// The parts of an https:// URL, in fixed buffers.
struct HttpsUrl {
  char host[256] = {};
  char port[6] = {};   ///< "443" unless the URL names one
  char path[1024] = {};  ///< path and query, at least "/"
};

/// Splits "https://host[:port][/path]" into `out`. InvalidArgument for any
/// other scheme (http:// included), user info, an IPv6 literal, a bad port or
/// parts too long; `why` (if not null) then names the problem.
hal::Err parse_https_url(const char* url, HttpsUrl& out, const char** why);

class HttpsGet {
 public:
  enum class State : uint8_t { Idle, Connecting, Handshake, Request, Headers, Body, Done, Failed };

  struct Options {
    /// No progress (connect, handshake, a byte read or written) for this long: Timeout.
    int64_t timeout_ms = 30000;
  };

  explicit HttpsGet(hal::MonotonicClock& clock);
  HttpsGet(hal::MonotonicClock& clock, Options options);
  ~HttpsGet();
  HttpsGet(const HttpsGet&) = delete;
  HttpsGet& operator=(const HttpsGet&) = delete;

  /// Begins GET `url` from byte `offset` (the sink's received()), verifying the
  /// server with the PEM CA file `ca_file`. Closes any previous transfer. Starts
  /// a non-blocking connect; the rest happens in pump(). Errors (bad URL, http://,
  /// unreadable CA file, name resolution, socket) come back here with
  /// error_text() set, and the state is Failed.
  /// `expected_total` (e.g. the signed manifest's image size; 0 = unchecked):
  /// a resource of another size fails with InvalidArgument once the headers
  /// are in, before any byte reaches the sink.
  hal::Err start(const char* url, uint64_t offset, const char* ca_file, uint64_t expected_total = 0);

  /// Advances the transfer without blocking: connect, TLS handshake, request,
  /// headers, then body bytes (at most `budget` of them per call) written in
  /// order into `sink` at sink.received(). Ok while running and once Done;
  /// otherwise the error (state Failed, error_text() says what):
  ///   Timeout          no progress for Options::timeout_ms
  ///   Io               connect/TLS/socket failure, connection lost (short body)
  ///   Corrupt          the certificate did not verify (CA, host name, dates)
  ///   NotFound         HTTP 404 / 410
  ///   InvalidArgument  another 4xx, a wrong Content-Range or Content-Length,
  ///                    a malformed response, a sink at another offset
  ///   Busy             HTTP 5xx
  ///   NotSupported     a redirect (3xx, not followed), chunked encoding
  ///   NoSpace / Io     what the sink returned
  hal::Err pump(ByteSink& sink, size_t budget);

  /// Closes the connection (the transfer stops; state Idle unless Done/Failed).
  void stop();

  State state() const { return state_; }
  bool running() const { return state_ != State::Idle && state_ != State::Done && state_ != State::Failed; }
  bool done() const { return state_ == State::Done; }
  hal::Err error() const { return err_; }
  /// One line: what failed ("HTTP 404 Not Found from localhost", ...); "" if nothing did.
  const char* error_text() const { return text_; }
  /// The HTTP status (200, 206, ...); 0 before the headers arrived.
  int status() const { return status_; }
  /// The whole resource's size once the headers arrived (offset + body); 0 before.
  uint64_t total() const { return total_; }
  /// The offset this start() asked for, and the body bytes written to the sink since.
  uint64_t start_offset() const { return offset_; }
  uint64_t written() const { return written_; }
  /// The socket while a transfer runs (-1 otherwise), for a loop that polls
  /// before pumping: readable (or writable while connecting) means progress.
  int fd() const;

  struct Impl;

 private:
  hal::Err fail(hal::Err e, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  hal::Err step_connect();
  hal::Err connect_next();
  hal::Err step_handshake();
  hal::Err step_request();
  hal::Err step_headers();
  hal::Err parse_headers(size_t header_len);
  hal::Err deliver(ByteSink& sink, const uint8_t* data, size_t len);
  hal::Err step_body(ByteSink& sink, size_t budget);
  void close_connection();
  bool timed_out();
  void touch();

  hal::MonotonicClock& clock_;
  Options options_;
  Impl* impl_;  // the mbedTLS contexts (allocated once, in the constructor)
  State state_ = State::Idle;
  hal::Err err_ = hal::Err::Ok;
  char text_[320] = {};
  HttpsUrl url_;
  uint64_t offset_ = 0;
  uint64_t skip_ = 0;     // bytes of a 200 answer to a Range request still to drop
  uint64_t body_len_ = 0;  // Content-Length
  uint64_t body_read_ = 0;
  uint64_t written_ = 0;
  uint64_t total_ = 0;
  uint64_t expected_total_ = 0;
  int status_ = 0;
  hal::MonoTime last_progress_;
  char request_[1400] = {};
  size_t request_len_ = 0;
  size_t request_sent_ = 0;
  uint8_t head_[4096] = {};  // the response headers (and the first body bytes after them)
  size_t head_len_ = 0;
  size_t pending_pos_ = 0;  // body bytes in head_ after the headers: [pending_pos_, head_len_)
  uint8_t buf_[16384] = {};
};

}  // namespace agent
