// The fixture itself: the server (Prosody, or ejabberd with
// XIOT_TEST_SERVER=ejabberd) comes up on loopback only, restarts on the same
// port, stops cleanly; processes, waits and config writers behave.
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "harness.hpp"

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

namespace {

/// Local addresses ("127.0.0.1", "0.0.0.0", "::", …) listening on TCP `port`,
/// from /proc/net/tcp and tcp6.
std::vector<std::string> listeners_on(int port) {
  std::vector<std::string> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string sl, local, remote, state;
      ss >> sl >> local >> remote >> state;
      const size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A = LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) != port) continue;
      const std::string hex = local.substr(0, colon);
      if (hex.size() == 8) {
        in_addr a{};
        a.s_addr = static_cast<in_addr_t>(std::stoul(hex, nullptr, 16));
        char buf[INET_ADDRSTRLEN];
        out.push_back(inet_ntop(AF_INET, &a, buf, sizeof buf));
      } else {
        out.push_back("ipv6:" + hex);
      }
    }
  }
  return out;
}

/// Local addresses of every TCP socket that process `pid` listens on, from its
/// fds and /proc/net/tcp{,6}. "?" when /proc/PID/fd cannot be read.
std::vector<std::string> listeners_of(int pid) {
  std::set<std::string> inodes;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(fd_dir.c_str());
  if (d == nullptr) return {"?"};
  while (const dirent* e = readdir(d)) {
    char target[128] = {};
    const std::string link = fd_dir + "/" + e->d_name;
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    const std::string t(target, n > 0 ? static_cast<size_t>(n) : 0);
    if (t.rfind("socket:[", 0) == 0) inodes.insert(t.substr(8, t.size() - 9));
  }
  closedir(d);
  std::vector<std::string> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string sl, local, remote, state, queues, tr, retr, uid, timeout, inode;
      ss >> sl >> local >> remote >> state >> queues >> tr >> retr >> uid >> timeout >> inode;
      if (state == "0A" && inodes.count(inode) != 0) out.push_back(local);  // hex addr:port
    }
  }
  return out;
}

/// A /proc/net/tcp{,6} local address ("0100007F:3A98") is on loopback.
bool hex_is_loopback(const std::string& local) {
  const std::string hex = local.substr(0, local.rfind(':'));
  if (hex.size() == 8) return (std::stoul(hex, nullptr, 16) & 0xFFu) == 127u;  // little-endian 127.x.y.z
  return hex == "00000000000000000000000001000000";                           // ::1
}

bool tcp_connects(const std::string& host, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

bool file_exists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

TEST(DevServer, StartsOnLoopbackOnlyWithCertsAndAccounts) {
  DevServer server;
  EXPECT_EQ(server.host(), "127.0.0.1");
  EXPECT_EQ(server.domain(), "localhost");
  EXPECT_GE(server.port(), 1);
  EXPECT_NE(server.port(), 5222) << "never the default port";
  EXPECT_TRUE(tcp_connects(server.host(), server.port()));
  EXPECT_TRUE(tcp_connects(server.host(), server.direct_tls_port()));
  EXPECT_EQ(listeners_on(server.port()), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(listeners_on(server.direct_tls_port()), std::vector<std::string>{"127.0.0.1"});
  EXPECT_TRUE(file_exists(server.ca_file()));
  EXPECT_TRUE(file_exists(server.rogue_ca_file()));
  EXPECT_NE(server.ca_file(), server.rogue_ca_file());
  for (const char* user : {"dev1", "admin", "ops", "viewer", "stranger"}) {
    EXPECT_FALSE(server.password(user).empty()) << user;
  }
  EXPECT_TRUE(server.running());
  // Every socket the server (and, for ejabberd, its private epmd) listens on is
  // on loopback: c2s, direct TLS, Erlang distribution, epmd.
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> env(
      cJSON_Parse(xiot::test::read_file(server.env_json()).c_str()), &cJSON_Delete);
  ASSERT_TRUE(env);
  EXPECT_STREQ(cJSON_GetObjectItem(env.get(), "server")->valuestring, server.kind().c_str());
  std::vector<int> pids = {cJSON_GetObjectItem(env.get(), "pid")->valueint};
  if (server.is_ejabberd()) {
    pids.push_back(std::stoi(xiot::test::read_file(server.dir() + "/epmd.pid")));
    const int epmd_port = cJSON_GetObjectItem(env.get(), "epmd_port")->valueint;
    EXPECT_NE(epmd_port, 4369) << "never the system epmd's port";
    EXPECT_FALSE(listeners_on(epmd_port).empty());
  }
  for (int pid : pids) {
    const auto listening = listeners_of(pid);
    EXPECT_FALSE(listening.empty()) << "pid " << pid;
    for (const auto& l : listening) EXPECT_TRUE(l != "?" && hex_is_loopback(l)) << "pid " << pid << " listens on " << l;
  }
  if (server.is_ejabberd()) {
    // Only the intended certificate; TLS required; nothing from /etc/ejabberd.
    const std::string cfg = xiot::test::read_file(server.dir() + "/ejabberd/node1/ejabberd.yml");
    EXPECT_NE(cfg.find("starttls_required: true"), std::string::npos);
    EXPECT_NE(cfg.find("ip: \"127.0.0.1\""), std::string::npos);
    EXPECT_NE(cfg.find("\"" + server.dir() + "/certs/localhost.crt\""), std::string::npos);
    EXPECT_EQ(cfg.find("/etc/ejabberd"), std::string::npos);
    EXPECT_EQ(server.nodes().size(), 1u);
    EXPECT_EQ(server.nodes()[0].name, "xiot1@127.0.0.1");
  } else {
    // Only the intended certificate is where Prosody looks.
    const std::string cfg = xiot::test::read_file(server.dir() + "/prosody.cfg.lua");
    EXPECT_NE(cfg.find("c2s_require_encryption = true"), std::string::npos);
    EXPECT_NE(cfg.find("interfaces = { \"127.0.0.1\" }"), std::string::npos);
    EXPECT_EQ(cfg.find("/etc/prosody"), std::string::npos);
  }

  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_FALSE(tcp_connects(server.host(), server.port()));
  for (int pid : pids) {
    const auto left = listeners_of(pid);  // "?": the process is gone
    EXPECT_TRUE(left.empty() || left == std::vector<std::string>{"?"}) << "pid " << pid << " still listens";
  }
}

TEST(DevServer, ExplicitAccountsAndAddAccount) {
  DevServer::Options o;
  o.accounts = "dev7:pw-one,ops:pw-two";
  DevServer server(o);
  EXPECT_EQ(server.password("dev7"), "pw-one");
  EXPECT_EQ(server.password("ops"), "pw-two");
  EXPECT_THROW(server.password("dev1"), std::out_of_range);
  server.add_account("dev9", "pw-three");
  EXPECT_EQ(server.password("dev9"), "pw-three");

  Process dev(Process::Options{xiot::test::fake_device_argv(server, "dev9"), {}, "", server.dir() + "/logs", true});
  ASSERT_TRUE(dev.wait_for_output("ready\n", in(20s))) << dev.describe();
}

TEST(DevServer, RestartKeepsPortAccountsAndData) {
  DevServer server;
  const int port = server.port();
  {
    Process dev(Process::Options{xiot::test::fake_device_argv(server), {}, "", server.dir() + "/logs", true});
    ASSERT_TRUE(dev.wait_for_output("ready\n", in(20s))) << dev.describe();
    dev.write_stdin("publish urn:xiot:telemetry:0 before-restart "
                    "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='1'/></sensml>\n");
    ASSERT_TRUE(dev.wait_for_output("published before-restart\n", in(10s))) << dev.describe();
  }
  server.restart();
  EXPECT_EQ(server.port(), port);
  EXPECT_TRUE(server.running());
  EXPECT_EQ(listeners_on(port), std::vector<std::string>{"127.0.0.1"});
  Process dev(Process::Options{xiot::test::fake_device_argv(server), {}, "", server.dir() + "/logs", true});
  ASSERT_TRUE(dev.wait_for_output("ready\n", in(20s))) << dev.describe();
}

TEST(DevServer, PepPublishOptionsPubsubAdminsAndStreamManagement) {
  DevServer server;
  Process dev(Process::Options{xiot::test::fake_device_argv(server, "dev1"), {}, "", server.dir() + "/logs", true});
  ASSERT_TRUE(dev.wait_for_output("ready\n", in(20s))) << dev.describe();
  EXPECT_TRUE(dev.wait_for_output("sm-enabled\n", in(10s))) << dev.describe();
  const std::string payload = "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml n='a' v='1'/></sensml>";
  // PEP with publish-options persist_items=true, access_model=presence.
  dev.write_stdin("publish urn:xiot:telemetry:0 p-1 " + payload + "\n");
  ASSERT_TRUE(dev.wait_for_output("published p-1\n", in(10s))) << dev.describe();
  // The pubsub component takes items from its admins (dev*) ...
  dev.write_stdin("publish-to pubsub.localhost xiot/dev1/telemetry s-1 " + payload + "\n");
  ASSERT_TRUE(dev.wait_for_output("published s-1\n", in(10s))) << dev.describe();

  // ... and not from anyone else.
  Process viewer(Process::Options{xiot::test::fake_device_argv(server, "viewer"), {}, "", server.dir() + "/logs", true});
  ASSERT_TRUE(viewer.wait_for_output("ready\n", in(20s))) << viewer.describe();
  viewer.write_stdin("publish-to pubsub.localhost xiot/viewer/telemetry v-1 " + payload + "\n");
  ASSERT_TRUE(viewer.wait_for_output("error v-1 forbidden\n", in(10s))) << viewer.describe();
}

TEST(Process, CapturesOutputExitCodesAndSignals) {
  Process echo({"/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"});
  EXPECT_EQ(echo.wait_exit(in(10s)), 3);
  EXPECT_EQ(echo.out(), "hello\n");
  EXPECT_EQ(echo.err(), "oops\n");
  EXPECT_TRUE(echo.wait_for_output("oops", in(1s), Process::Stream::Err));
  EXPECT_FALSE(echo.wait_for_output("never", in(5s)));  // returns early: it has exited

  Process cat(Process::Options{{"cat"}, {}, "", "", true});
  cat.write_stdin("line one\n");
  EXPECT_TRUE(cat.wait_for_output("line one", in(10s)));
  cat.close_stdin();
  EXPECT_EQ(cat.wait_exit(in(10s)), 0);

  Process sleeper({"sleep", "30"});
  EXPECT_FALSE(sleeper.wait_exit(in(50ms)).has_value());
  sleeper.kill(SIGTERM);
  EXPECT_EQ(sleeper.wait_exit(in(10s)), 128 + SIGTERM);

  Process env(Process::Options{{"/bin/sh", "-c", "echo $XIOT_HARNESS_TEST; pwd"}, {{"XIOT_HARNESS_TEST", "42"}}, "/", "", false});
  EXPECT_EQ(env.wait_exit(in(10s)), 0);
  EXPECT_EQ(env.out(), "42\n/\n");

  Process missing({"/nonexistent/program"});
  EXPECT_EQ(missing.wait_exit(in(10s)), 127);
}

TEST(WaitUntil, ReturnsAsSoonAsTrueAndFalseAtTheDeadline) {
  int calls = 0;
  EXPECT_TRUE(xiot::test::wait_until([&] { return ++calls == 3; }, in(10s), 1ms));
  EXPECT_EQ(calls, 3);
  const auto start = xiot::test::Clock::now();
  EXPECT_FALSE(xiot::test::wait_until([] { return false; }, in(30ms)));
  EXPECT_GE(xiot::test::Clock::now() - start, 30ms);
}

TEST(ConfigWriters, AgentConfigFollowsTheContractAndMergesOverrides) {
  DevServer server;
  xiot::test::AgentConfig c;
  c.override_json = R"({"telemetry": {"interval_s": 0.05}, "journal": null})";
  const std::string path = xiot::test::write_agent_config(server, server.dir() + "/agent/agent.json", c);
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(cJSON_Parse(xiot::test::read_file(path).c_str()), &cJSON_Delete);
  ASSERT_TRUE(root);
  const cJSON* xmpp = cJSON_GetObjectItem(root.get(), "xmpp");
  EXPECT_STREQ(cJSON_GetObjectItem(xmpp, "jid")->valuestring, "dev1@localhost");
  EXPECT_EQ(cJSON_GetObjectItem(xmpp, "password")->valuestring, server.password("dev1"));
  EXPECT_EQ(cJSON_GetObjectItem(xmpp, "port")->valueint, server.port());
  EXPECT_EQ(cJSON_GetObjectItem(xmpp, "ca_file")->valuestring, server.ca_file());
  const cJSON* tel = cJSON_GetObjectItem(root.get(), "telemetry");
  EXPECT_DOUBLE_EQ(cJSON_GetObjectItem(tel, "interval_s")->valuedouble, 0.05);
  EXPECT_STREQ(cJSON_GetObjectItem(tel, "node")->valuestring, "urn:xiot:telemetry:0");  // merged, not replaced
  EXPECT_EQ(cJSON_GetObjectItem(root.get(), "journal"), nullptr);
  const cJSON* acl = cJSON_GetObjectItem(root.get(), "acl");
  EXPECT_STREQ(cJSON_GetArrayItem(cJSON_GetObjectItem(acl, "operators"), 0)->valuestring, "ops@localhost");

  const std::string ops = xiot::test::write_ops_config(server, server.dir() + "/ops.json");
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> o(cJSON_Parse(xiot::test::read_file(ops).c_str()), &cJSON_Delete);
  ASSERT_TRUE(o);
  EXPECT_STREQ(cJSON_GetObjectItem(o.get(), "jid")->valuestring, "ops@localhost");
}

}  // namespace
