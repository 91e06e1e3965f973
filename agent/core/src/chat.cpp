#include "agent/chat.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace agent {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool verb_is(const char* word, const char* verb) {
  while (*word != '\0' && *verb != '\0') {
    if (lower(*word) != *verb) return false;
    ++word;
    ++verb;
  }
  return *word == '\0' && *verb == '\0';
}

/// Cuts the next word off `*p` (NUL-terminating it in place) and returns it,
/// or nullptr when only blanks are left. `*p` then points past the word.
char* next_word(char** p) {
  char* s = *p;
  while (is_blank(*s)) ++s;
  if (*s == '\0') {
    *p = s;
    return nullptr;
  }
  char* word = s;
  while (*s != '\0' && !is_blank(*s)) ++s;
  if (*s != '\0') *s++ = '\0';
  *p = s;
  return word;
}

/// The rest of the line with surrounding blanks removed ("" if none).
char* rest_of_line(char* p) {
  while (is_blank(*p)) ++p;
  size_t n = std::strlen(p);
  while (n > 0 && is_blank(p[n - 1])) p[--n] = '\0';
  return p;
}

/// Appends to a reply buffer; a reply that does not fit ends in "...".
class ReplyWriter {
 public:
  ReplyWriter(char* buf, size_t cap) : buf_(buf), cap_(cap) { buf_[0] = '\0'; }
  void add(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (full_) return;
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(buf_ + len_, cap_ - len_, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (static_cast<size_t>(n) >= cap_ - len_) {
      std::memcpy(buf_ + cap_ - 4, "...", 4);
      len_ = cap_ - 1;
      full_ = true;
      return;
    }
    len_ += static_cast<size_t>(n);
  }
  size_t length() const { return len_; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool full_ = false;
};

void add_reading_line(ReplyWriter& w, const char* name, const drv::ChannelSpec& spec, hal::Err error,
                      const drv::Value& value) {
  if (w.length() != 0) w.add("\n");
  if (error != hal::Err::Ok) {
    w.add("%s: read failed: %s", name, hal::err_name(error));
    return;
  }
  char text[kValueTextMax];
  if (!format_value_text(text, sizeof text, value).ok()) {
    w.add("%s: (unprintable value)", name);
    return;
  }
  const bool unit = spec.unit != nullptr && spec.unit[0] != '\0';
  w.add("%s: %s%s%s", name, text, unit ? " " : "", unit ? spec.unit : "");
}

void visit_reading(void* ctx, const ChannelReading& r) {
  add_reading_line(*static_cast<ReplyWriter*>(ctx), r.name, *r.spec, r.error, r.value);
}

}  // namespace

const char* ChatBot::reply(const char* from, const char* body) {
  // Strangers first, before the body is even looked at: no answer at all.
  const Role role = router_.role_of(from);
  if (role == Role::Stranger || body == nullptr) return nullptr;
  const char* start = body;
  while (is_blank(*start)) ++start;
  size_t len = std::strlen(start);
  while (len > 0 && is_blank(start[len - 1])) --len;
  if (len == 0) return nullptr;
  if (len > kChatBodyMax) {
    std::snprintf(reply_, sizeof reply_, "Message too long (at most %zu bytes). Try: help", kChatBodyMax);
    return reply_;
  }
  char line[kChatBodyMax + 1];
  std::memcpy(line, start, len);
  line[len] = '\0';
  char* p = line;
  const char* verb = next_word(&p);  // non-null: the line is not blank
  if (verb_is(verb, "help") || verb_is(verb, "?")) {
    help(role);
  } else if (verb_is(verb, "status")) {
    if (*rest_of_line(p) != '\0') {
      std::snprintf(reply_, sizeof reply_, "Usage: status");
    } else {
      status(from);
    }
  } else if (verb_is(verb, "read")) {
    const char* channel = next_word(&p);
    if (*rest_of_line(p) != '\0') {
      std::snprintf(reply_, sizeof reply_, "Usage: read [channel]");
    } else {
      read(from, channel);
    }
  } else if (verb_is(verb, "set")) {
    const char* channel = next_word(&p);
    const char* value = rest_of_line(p);
    if (channel == nullptr || *value == '\0') {
      std::snprintf(reply_, sizeof reply_, "Usage: set <channel> <value>");
    } else {
      set(from, channel, value);
    }
  } else {
    std::snprintf(reply_, sizeof reply_, "Unknown command '%.32s'. Try: help, status, read [channel]%s", verb,
                  role_allows(role, Role::Operator) ? ", set <channel> <value>" : "");
  }
  return reply_;
}

void ChatBot::help(Role role) {
  ReplyWriter w(reply_, sizeof reply_);
  w.add("You are %s. Commands:\n"
        "status - one-line device status\n"
        "read - every channel\n"
        "read <channel> - one channel, e.g. read env0.temperature",
        role_name(role));
  if (role_allows(role, Role::Operator)) {
    w.add("\nset <channel> <value> - drive an actuator, e.g. set relay0.state on");
  }
}

void ChatBot::status(const char* from) {
  CommandError err;
  if (!router_.status_line(from, reply_, sizeof reply_, &err)) {
    std::snprintf(reply_, sizeof reply_, "Error: %s", err.text);
  }
}

void ChatBot::read(const char* from, const char* channel) {
  ReplyWriter w(reply_, sizeof reply_);
  CommandError err;
  if (channel == nullptr) {
    if (!router_.read_all(from, visit_reading, &w, &err)) {
      std::snprintf(reply_, sizeof reply_, "Error: %s", err.text);
    } else if (w.length() == 0) {
      std::snprintf(reply_, sizeof reply_, "This device has no channels.");
    }
    return;
  }
  drv::Value value;
  if (!router_.read_channel(from, channel, &value, &err)) {
    std::snprintf(reply_, sizeof reply_, "Error: %s", err.text);
    return;
  }
  // read_channel() succeeded, so the channel exists.
  const hal::Result<drv::ChannelRef> ref = router_.registry().find(channel);
  static const drv::ChannelSpec kNoSpec = {"", "", drv::ChannelKind::Sensor, drv::ValueType::Numeric};
  add_reading_line(w, channel, ref.ok() ? ref.value().spec() : kNoSpec, hal::Err::Ok, value);
}

void ChatBot::set(const char* from, const char* channel, const char* value) {
  CommandError err;
  drv::Value applied;
  if (!router_.set_channel(from, channel, value, &applied, &err)) {
    std::snprintf(reply_, sizeof reply_, "Error: %s", err.text);
    return;
  }
  char text[kValueTextMax];
  if (!format_value_text(text, sizeof text, applied).ok()) text[0] = '\0';
  std::snprintf(reply_, sizeof reply_, "%s set to %s", channel, text);
}

}  // namespace agent
