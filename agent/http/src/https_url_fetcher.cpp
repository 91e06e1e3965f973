#include "agent/https_url_fetcher.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace agent {

HttpsUrlFetcher::HttpsUrlFetcher(hal::MonotonicClock& clock, const char* ca_file)
    : HttpsUrlFetcher(clock, ca_file, Options()) {}

HttpsUrlFetcher::HttpsUrlFetcher(hal::MonotonicClock& clock, const char* ca_file, Options options)
    : clock_(clock), ca_file_(ca_file), opt_(options), get_(clock, options.get) {
  if (opt_.max_attempts == 0) opt_.max_attempts = 1;
}

hal::Err HttpsUrlFetcher::give_up(hal::Err e, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(text_, sizeof text_, fmt, ap);
  va_end(ap);
  get_.stop();
  state_ = State::Failed;
  return e;
}

hal::Err HttpsUrlFetcher::connect(char* why, size_t why_cap) {
  ++attempts_;
  const hal::Err e = get_.start(url_, sink_->received(), ca_file_, expected_);
  if (e != hal::Err::Ok) {
    // A bad URL, http://, an unreadable CA file: retrying cannot help.
    (void)give_up(e, "%s", get_.error_text());
    if (why != nullptr) std::snprintf(why, why_cap, "%s", text_);
    return e;
  }
  state_ = State::Running;
  return hal::Err::Ok;
}

hal::Err HttpsUrlFetcher::start(const char* url, ByteSink& sink, uint64_t expected_total, char* why,
                                size_t why_cap) {
  get_.stop();
  text_[0] = '\0';
  attempts_ = 0;
  sink_ = &sink;
  expected_ = expected_total;
  if (std::strlen(url) >= sizeof url_) {
    (void)give_up(hal::Err::InvalidArgument, "the URL is longer than %zu characters", sizeof url_ - 1);
    if (why != nullptr) std::snprintf(why, why_cap, "%s", text_);
    return hal::Err::InvalidArgument;
  }
  std::snprintf(url_, sizeof url_, "%s", url);
  if (expected_ != 0 && sink.received() >= expected_) {
    state_ = State::Done;  // everything is staged already
    return hal::Err::Ok;
  }
  return connect(why, why_cap);
}

hal::Err HttpsUrlFetcher::poll() {
  switch (state_) {
    case State::Idle:
    case State::Done: return hal::Err::Ok;
    case State::Failed: return get_.error() != hal::Err::Ok ? get_.error() : hal::Err::Io;
    case State::Waiting:
      if (clock_.mono_now() < retry_at_) return hal::Err::Ok;
      if (connect(nullptr, 0) != hal::Err::Ok) return get_.error();
      break;
    case State::Running: break;
  }
  const uint64_t before = sink_->received();
  const hal::Err e = get_.pump(*sink_, opt_.budget);
  if (e == hal::Err::Ok) {
    if (get_.done()) state_ = State::Done;
    return hal::Err::Ok;
  }
  switch (e) {
    case hal::Err::Io:
    case hal::Err::Timeout:
    case hal::Err::Busy: {
      // Transient: the link dropped, stalled or the server was busy. A
      // connection that made progress resets the count.
      if (sink_->received() > before) attempts_ = 1;
      if (attempts_ >= opt_.max_attempts) {
        return give_up(e, "download failed after %u attempts: %s", attempts_, get_.error_text());
      }
      int64_t backoff = opt_.backoff_ms;
      for (uint32_t i = 1; i < attempts_ && backoff < 8000; ++i) backoff *= 2;
      if (backoff > 8000) backoff = 8000;
      std::snprintf(text_, sizeof text_, "%s; retrying from byte %llu in %lld ms", get_.error_text(),
                    static_cast<unsigned long long>(sink_->received()), static_cast<long long>(backoff));
      get_.stop();
      retry_at_ = clock_.mono_now().plus_ms(backoff);
      state_ = State::Waiting;
      return hal::Err::Ok;
    }
    case hal::Err::NotFound:
      return give_up(e, "%s: the upload slot is gone (expired or never filled); push the update again",
                     get_.error_text());
    default: return give_up(e, "%s", get_.error_text());
  }
}

}  // namespace agent
