// Chat, for people (shared/DESIGN.md "Chat, for people"): a `chat` message
// body from an ACL'd JID becomes a one-message text reply. The grammar
// (docs/commands.md has the user-facing version):
//
//   help                      what you may ask (depends on your role)
//   status                    one status line (board, firmware, uptime, health)
//   read                      every channel, one line each: "env0.temperature: 21.54 Cel"
//   read <channel>            that channel only (its device is sampled now)
//   set <channel> <value>     drive an actuator; the value is the rest of the line
//                             (true/false, on/off, yes/no, 1/0, or a number)
//
// Roles are those of the commands: help/status/read need viewer, set needs
// operator. Strangers get no answer at all. Verbs are ASCII case-insensitive;
// channel names are exact. The body is trimmed; whitespace between words may
// be any run of spaces/tabs. Unknown words get a short help line.
//
// The bot holds no logic of its own beyond the grammar: every check, every
// device access and every format comes from the CommandRouter.
#pragma once

#include <cstddef>

#include "agent/commands.hpp"

namespace agent {

constexpr size_t kChatBodyMax = 256;   ///< longer bodies are refused (with a reply)
constexpr size_t kChatReplyMax = 1024; ///< a reply longer than this ends in "..."

class ChatBot {
 public:
  /// `router` is borrowed and must outlive the bot.
  explicit ChatBot(CommandRouter& router) : router_(router) {}
  ChatBot(const ChatBot&) = delete;
  ChatBot& operator=(const ChatBot&) = delete;

  /// The reply to `body` from `from` (the full JID as stamped by the
  /// server), or nullptr when nothing must be sent: the sender is a stranger
  /// (checked first, before anything else), or the body is null or only
  /// whitespace (e.g. a chat-state notification). The text is NUL-terminated
  /// UTF-8 (not XML-escaped: the session puts it into <body/> as text) and
  /// lives in the bot until the next call. Never allocates.
  const char* reply(const char* from, const char* body);

 private:
  void help(Role role);
  void status(const char* from);
  void read(const char* from, const char* channel);
  void set(const char* from, const char* channel, const char* value);

  CommandRouter& router_;
  char reply_[kChatReplyMax] = {};
};

}  // namespace agent
