// agent::Context keeps its state to itself: libstrophe allocations are counted
// per context (xmpp_mem_t.userdata), its sessions are its own, and a
// libstrophe log line is given to the session it belongs to.
#include <gtest/gtest.h>
#include <strophe.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <initializer_list>
#include <string>

#include "agent/backoff.hpp"
#include "agent/config.hpp"
#include "agent/xmpp/session.hpp"
#include "hal/sim/manual_clock.hpp"

namespace {

TEST(XmppContext, TwoContextsCountTheirOwnAllocations) {
  agent::Context a;
  agent::Context b;
  const int64_t a0 = a.outstanding_blocks();
  const int64_t b0 = b.outstanding_blocks();
  EXPECT_GT(a0, 0);  // the libstrophe context itself
  xmpp_stanza_t* s = xmpp_stanza_new(a.raw());
  xmpp_stanza_set_name(s, "message");
  xmpp_stanza_set_attribute(s, "to", "someone@example.org");
  EXPECT_GT(a.outstanding_blocks(), a0);
  EXPECT_EQ(b.outstanding_blocks(), b0);
  xmpp_stanza_release(s);
  EXPECT_EQ(a.outstanding_blocks(), a0);
  EXPECT_EQ(b.outstanding_blocks(), b0);
  EXPECT_EQ(a.close(), 0);
  EXPECT_EQ(b.outstanding_blocks(), b0);  // a's close frees nothing of b
  EXPECT_EQ(b.close(), 0);
}

// Sessions that try a closed local port: they never log in, which is all the
// attribution tests need (no server, no waiting).
class ContextSessions : public ::testing::Test {
 protected:
  ContextSessions() : rng_(7) {
    cfg_.xmpp.jid = "dev1@localhost";
    cfg_.xmpp.password = "unused";
    cfg_.xmpp.host = "127.0.0.1";
    cfg_.xmpp.port = 9;
  }
  hal::sim::ManualClock clock_;
  agent::AgentConfig cfg_;
  agent::Rng rng_;
};

// A local port that accepts TCP connections (the kernel completes them) and
// never says a word: a session connected to it waits for the server's stream
// features, i.e. it is logging in, before TLS.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~SilentServer() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Runs `ctx` until every session is at `stage` (a few turns on loopback).
bool reach(agent::Context& ctx, std::initializer_list<const agent::Session*> sessions,
           agent::Session::LoginStage stage) {
  for (int i = 0; i < 200; ++i) {
    bool all = true;
    for (const agent::Session* s : sessions) all = all && s->login_stage() == stage;
    if (all) return true;
    ctx.run_once(1);
  }
  return false;
}

constexpr const char* kTlsFailed = "Certificate verification FAILED, result=X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT(2)";

TEST_F(ContextSessions, ALoginFailureLineGoesToTheOneSessionLoggingInOnItsContextOnly) {
  SilentServer server;
  ASSERT_NE(server.port(), 0);
  cfg_.xmpp.port = server.port();
  agent::Context a;
  agent::Context b;
  agent::Session in_a(a, cfg_, clock_, rng_);
  agent::Session in_b(b, cfg_, clock_, rng_);
  ASSERT_EQ(in_a.start(), hal::Err::Ok);
  ASSERT_EQ(in_b.start(), hal::Err::Ok);
  ASSERT_TRUE(reach(a, {&in_a}, agent::Session::LoginStage::Handshaking));
  ASSERT_TRUE(reach(b, {&in_b}, agent::Session::LoginStage::Handshaking));
  a.attribute_line("tls", kTlsFailed);
  // An SASL failure cannot be a session's that has no TLS yet.
  b.attribute_line("auth", "Cannot authenticate with known methods");
  in_a.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  in_b.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  EXPECT_EQ(in_a.fatal(), agent::Fatal::TlsUntrusted);
  EXPECT_NE(in_a.fatal_message().find("X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT"), std::string::npos)
      << in_a.fatal_message();
  EXPECT_EQ(in_b.fatal(), agent::Fatal::None);
}

TEST_F(ContextSessions, WithSeveralLoggingInTheFirstOneDisconnectedBeforeItsLoginTakesTheLine) {
  SilentServer server;
  ASSERT_NE(server.port(), 0);
  cfg_.xmpp.port = server.port();
  agent::Context ctx;
  agent::Session s1(ctx, cfg_, clock_, rng_);
  agent::Session s2(ctx, cfg_, clock_, rng_);
  agent::Session s3(ctx, cfg_, clock_, rng_);
  ASSERT_EQ(s1.start(), hal::Err::Ok);
  ASSERT_EQ(s2.start(), hal::Err::Ok);
  ASSERT_EQ(s3.start(), hal::Err::Ok);
  ASSERT_TRUE(reach(ctx, {&s1, &s2, &s3}, agent::Session::LoginStage::Handshaking));
  ctx.attribute_line("tls", kTlsFailed);  // one of the three: held
  s2.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  s1.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  s3.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  EXPECT_EQ(s2.fatal(), agent::Fatal::TlsUntrusted);
  EXPECT_EQ(s1.fatal(), agent::Fatal::None);  // one line, one verdict
  EXPECT_EQ(s3.fatal(), agent::Fatal::None);
}

TEST_F(ContextSessions, ALineNoSessionCanBeNamedForIsDroppedNotGuessed) {
  agent::Context ctx;
  agent::Session s1(ctx, cfg_, clock_, rng_);
  agent::Session s2(ctx, cfg_, clock_, rng_);
  // Nobody is logging in: an unattributable line is dropped, not guessed.
  ctx.attribute_line("auth", "Cannot authenticate with known methods");
  s1.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  s2.on_conn_event(XMPP_CONN_DISCONNECT, 0, nullptr);
  EXPECT_EQ(s1.fatal(), agent::Fatal::None);
  EXPECT_EQ(s2.fatal(), agent::Fatal::None);
}

TEST_F(ContextSessions, SessionsAndCountsGoWithTheirContext) {
  agent::Context a;
  agent::Context b;
  const int64_t b0 = b.outstanding_blocks();
  {
    agent::Session s1(a, cfg_, clock_, rng_);
    agent::Session s2(a, cfg_, clock_, rng_);
    ASSERT_EQ(s1.start(), hal::Err::Ok);
    ASSERT_EQ(s2.start(), hal::Err::Ok);
    EXPECT_EQ(b.outstanding_blocks(), b0);  // a's connections are a's
    for (int i = 0; i < 5; ++i) a.run_once(0);
    EXPECT_FALSE(s1.online());
    EXPECT_FALSE(s2.online());
  }
  EXPECT_EQ(a.close(), 0);  // every block of a's sessions came back
  EXPECT_EQ(b.outstanding_blocks(), b0);
}

}  // namespace
