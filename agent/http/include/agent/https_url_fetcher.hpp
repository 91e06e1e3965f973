// The URL transport of signed updates (docs/updates.md "The URL transport"):
// agent::UrlFetcher on agent::HttpsGet. The agent's tick pumps it with a byte
// budget per turn; a lost connection, an I/O error or a stall is retried from
// the sink's received() (a Range request) after a backoff, a bounded number of
// times; then the download fails with the last error. An expired or unknown
// slot (HTTP 404/410) fails at once and tells the operator to push again.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/https_get.hpp"
#include "agent/runtime.hpp"

namespace agent {

class HttpsUrlFetcher final : public UrlFetcher {
 public:
  struct Options {
    uint32_t max_attempts = 5;        ///< connections per start() (the first one included)
    int64_t backoff_ms = 1000;        ///< before the 2nd attempt; doubled each time, at most 8 s
    size_t budget = 256 * 1024;       ///< body bytes per poll()
    HttpsGet::Options get;            ///< the stall timeout
  };

  /// `ca_file`: the PEM CA file the HTTPS server must chain to (the agent
  /// passes xmpp.ca_file: the upload service is the XMPP server's). Borrowed.
  HttpsUrlFetcher(hal::MonotonicClock& clock, const char* ca_file);
  HttpsUrlFetcher(hal::MonotonicClock& clock, const char* ca_file, Options options);

  hal::Err start(const char* url, ByteSink& sink, uint64_t expected_total, char* why, size_t why_cap) override;
  hal::Err poll() override;
  bool active() const override { return state_ == State::Running || state_ == State::Waiting; }
  void stop() override {
    get_.stop();
    state_ = State::Idle;
  }
  const char* error_text() const override { return text_; }

  /// Connections made since start() (1 = no retry so far).
  uint32_t attempts() const { return attempts_; }

 private:
  enum class State : uint8_t { Idle, Running, Waiting, Done, Failed };
  hal::Err connect(char* why, size_t why_cap);
  hal::Err give_up(hal::Err e, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

  hal::MonotonicClock& clock_;
  const char* ca_file_;
  Options opt_;
  HttpsGet get_;
  State state_ = State::Idle;
  ByteSink* sink_ = nullptr;
  uint64_t expected_ = 0;
  uint32_t attempts_ = 0;
  hal::MonoTime retry_at_{};
  char url_[1400] = {};
  char text_[400] = {};
};

}  // namespace agent
