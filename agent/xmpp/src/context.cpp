// agent::Context: one libstrophe context with its own counting allocator and
// logger. See session.hpp for the contract and context_state.hpp for how log
// lines are given to sessions.
#include "agent/xmpp/session.hpp"

#include <strophe.h>

#include <cstdlib>
#include <cstring>

#include "agent/log.hpp"
#include "context_state.hpp"

namespace agent {
namespace {

// ---- counting allocator -------------------------------------------------
void* mem_alloc(size_t size, void* userdata) {
  void* p = std::malloc(size);
  if (p != nullptr) ++static_cast<ContextState*>(userdata)->outstanding;
  return p;
}
void mem_free(void* p, void* userdata) {
  if (p != nullptr) --static_cast<ContextState*>(userdata)->outstanding;
  std::free(p);
}
void* mem_realloc(void* p, size_t size, void* userdata) {
  void* q = std::realloc(p, size);
  if (p == nullptr && q != nullptr) ++static_cast<ContextState*>(userdata)->outstanding;
  return q;
}

// ---- logging ------------------------------------------------------------
void strophe_log(void* userdata, xmpp_log_level_t level, const char* area, const char* msg) {
  ContextState* st = static_cast<ContextState*>(userdata);
  const bool in_scope = st->current != nullptr;  // the scope has set the tag already
  Session* s = st->on_line(area, msg);
  const char* prev_tag = log_tag();
  const bool retag = s != nullptr && !in_scope && s->log_tag() != nullptr;
  if (retag) log_set_tag(s->log_tag());
  // Stanza dumps ("SENT:"/"RECV:") and SASL exchanges only at debug; they never
  // carry the password (SCRAM), but keep auth payloads out of logs regardless.
  if (std::strncmp(msg, "SENT: <auth", 11) != 0 && std::strncmp(msg, "SENT: <response", 15) != 0) {
    switch (level) {
      case XMPP_LEVEL_ERROR: XLOG_WARN("strophe", "%s: %s", area, msg); break;
      case XMPP_LEVEL_WARN: XLOG_INFO("strophe", "%s: %s", area, msg); break;
      default: XLOG_DEBUG("strophe", "%s: %s", area, msg); break;
    }
  }
  if (retag) log_set_tag(prev_tag);
}

}  // namespace

Context::Context() : state_(new ContextState()) {
  state_->mem = xmpp_mem_t{mem_alloc, mem_free, mem_realloc, state_.get()};
  state_->log = xmpp_log_t{strophe_log, state_.get()};
  xmpp_initialize();
  ctx_ = xmpp_ctx_new(&state_->mem, &state_->log);
  // Verbosity 0 keeps libstrophe from formatting whole stanzas into debug
  // lines on every send unless we are at debug level ourselves.
  xmpp_ctx_set_verbosity(ctx_, log_level() == LogLevel::Debug ? 1 : 0);
}

Context::~Context() { close(); }

int64_t Context::close() {
  if (ctx_ != nullptr) {
    xmpp_ctx_free(ctx_);
    ctx_ = nullptr;
    xmpp_shutdown();
  }
  return state_->outstanding;
}

void Context::run_once(uint32_t timeout_ms) {
  ++turns_;
  // libstrophe 0.12.2 formats every line it logs before it calls the logger
  // (ctx.c _strophe_log: vsnprintf first, no level check for a custom
  // logger), and it logs every stanza written and read in full at debug
  // level: ~15k instructions per telemetry item, for lines we drop below
  // debug. ctx->log points at state_->log, so while every session of the
  // context is online and we are not at debug level, the loop runs without a
  // logger. During logins it is there: the sessions need its lines (a failed
  // SASL or TLS login, a resumed stream, a refused connect). What is lost:
  // libstrophe's own warnings while online (none seen in the integration runs;
  // the session logs every disconnect and its reason itself).
  state_->log.handler = log_level() != LogLevel::Debug && state_->all_online() ? nullptr : strophe_log;
  xmpp_run_once(ctx_, timeout_ms);
}

CommandScratch& Context::command_scratch() {
  if (!command_scratch_) command_scratch_.reset(new CommandScratch());
  return *command_scratch_;
}

int64_t Context::outstanding_blocks() const { return state_->outstanding; }

void Context::attribute_line(const char* area, const char* msg) { (void)state_->on_line(area, msg); }

}  // namespace agent
