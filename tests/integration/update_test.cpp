// Signed firmware updates end to end on the real Prosody (docs/updates.md):
// xiotctl firmware keygen/sign/push/status against xiot-agent on the
// simulated board with the sim A/B installer. The good path (push -> verify
// -> install -> exec reboot -> booted-unconfirmed -> committed, new version
// reported) and the bad paths: tampered image, wrong key, downgrade,
// non-owner, a second update while one runs, a transfer cut mid-way
// (resumes from the staged offset), the agent killed during the install,
// and a failed health gate (rolled back). Throughput and push-to-committed
// times are printed.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <regex>

#include "harness.hpp"

using namespace std::chrono_literals;
using xiot::test::AgentConfig;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;

namespace {

constexpr const char* kAgentOnline = "INFO xmpp: online";
constexpr const char* kOld = "0.1.0";  // slot A on a fresh sim board: the build's version

struct Result {
  std::optional<int> code;
  std::string out, err;
  std::string describe() const {
    return "exit " + (code ? std::to_string(*code) : std::string("(still running)")) + "\nout:\n" + out +
           "\nerr:\n" + err;
  }
};

class UpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(tool({"firmware", "keygen", dir() + "/keys"}).code, 0);
    ASSERT_EQ(tool({"firmware", "keygen", dir() + "/other-keys"}).code, 0);
  }

  std::string dir() const { return server_.dir(); }
  std::string logs() const { return dir() + "/logs"; }

  /// xiotctl without a connection (keygen, sign).
  Result tool(std::vector<std::string> args) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(Process::Options{argv, {}, "", logs(), false});
    Result r;
    r.code = p.wait_exit(in(30s));
    r.out = p.out();
    r.err = p.err();
    return r;
  }

  std::string config(const std::string& account) {
    return xiot::test::write_ops_config(server_, dir() + "/" + account + ".json", account);
  }

  std::unique_ptr<Process> run_xiotctl(const std::string& account, std::vector<std::string> args) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--config", config(account)};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(Process::Options{argv, {}, "", logs(), false});
  }

  Result xiotctl(const std::string& account, std::vector<std::string> args, std::chrono::seconds limit = 90s) {
    auto p = run_xiotctl(account, std::move(args));
    Result r;
    r.code = p->wait_exit(in(limit));
    r.out = p->out();
    r.err = p->err();
    return r;
  }

  AgentConfig agent_config(double health_window_s = 20) {
    AgentConfig cfg;
    cfg.account = "dev1";
    cfg.log_level = "info";
    cfg.interval_s = 1;
    cfg.override_json = R"({"update": {"public_keys": [")" + dir() + R"(/keys/update-key.pub.pem"],
                             "installer": "sim", "health_window_s": )" +
                        std::to_string(health_window_s) + "}}";
    return cfg;
  }

  /// Starts (or restarts) xiot-agent as dev1 and waits until it is online.
  std::unique_ptr<Process> start_agent(const AgentConfig& cfg) {
    const std::string path = xiot::test::write_agent_config(server_, dir() + "/dev1/agent.json", cfg);
    auto agent = std::make_unique<Process>(
        Process::Options{{xiot::test::binary_path("xiot-agent"), "--config", path}, {}, "", logs(), false});
    EXPECT_TRUE(agent->wait_for_output(kAgentOnline, in(20s))) << agent->describe();
    return agent;
  }

  void subscribe(const std::string& account) {
    const Result r = xiotctl(account, {"watch", "dev1", "--count", "1", "--timeout", "30"}, 40s);
    ASSERT_EQ(r.code, 0) << r.describe();
  }

  /// A sim image: the header line the sim installer reads, then `payload_bytes` of noise.
  std::string image(const std::string& name, const std::string& header, size_t payload_bytes, uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::string data = "xiot-sim-image " + header + "\n";
    data.reserve(data.size() + payload_bytes);
    for (size_t i = 0; i < payload_bytes; ++i) data.push_back(static_cast<char>(rng() & 0xFF));
    const std::string path = dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  /// Signs `img` as `version` into dir()/<out>; returns that directory.
  std::string sign(const std::string& img, const std::string& version, const std::string& out,
                   const std::string& key = "keys", const std::string& compatible = "xiot,sim") {
    const std::string d = dir() + "/" + out;
    const Result r = tool({"firmware", "sign", "--key", dir() + "/" + key + "/update-key.pem", "--version", version,
                           "--compatible", compatible, "--notes", "test", img, "--out", d});
    EXPECT_EQ(r.code, 0) << r.describe();
    return d;
  }

  Result status() { return xiotctl("admin", {"firmware", "status", "dev1"}, 30s); }

  /// Prints the xiotctl lines with the figures (throughput, push time).
  static void report(const std::string& what, const Result& r) {
    std::regex figures("xiotctl: (sent .*bytes/s over IBB|uploaded .* over HTTP|the device fetched .* over HTTPS|"
                       "push to .* took .* s)");
    std::istringstream ss(r.err);
    std::string line;
    while (std::getline(ss, line)) {
      if (std::regex_search(line, figures)) std::cout << "[figures] " << what << ": " << line << std::endl;
    }
  }

  /// tests/unit/https_range_server.py serving `file` with the server's
  /// certificate (the CA the agent trusts) or the rogue CA's; returns its port.
  std::string range_server(const std::string& file, bool rogue = false) {
    const std::string ca = server_.ca_file();
    const std::string certs = ca.substr(0, ca.rfind('/'));
    const std::string base = rogue ? certs.substr(0, certs.rfind('/')) + "/rogue/certs" : certs;
    range_.reset(new Process(Process::Options{{"/usr/bin/python3", xiot::test::source_path("tests/unit/https_range_server.py"),
                                               base + "/localhost.crt", base + "/localhost.key", file},
                                              {}, "", logs(), false}));
    EXPECT_TRUE(range_->wait_for_output("PORT ", in(10s), Process::Stream::Out)) << range_->describe();
    std::smatch m;
    const std::string out = range_->out();
    if (!std::regex_search(out, m, std::regex("PORT ([0-9]+)"))) return "0";
    return m[1];
  }

  DevServer server_;
  std::unique_ptr<Process> range_;
};

TEST_F(UpdateTest, PushInstallsRebootsAndCommitsTheNewVersion) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw-1.1.0.img", "1.1.0", 256 * 1024);
  const std::string m = sign(img, "1.1.0", "m110");
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--timeout", "80"});
  ASSERT_EQ(r.code, 0) << r.describe() << "\nagent:\n" << agent->describe();
  report("256 KiB push", r);
  EXPECT_NE(r.out.find("dev1@localhost: firmware 1.1.0; update committed 1.1.0"), std::string::npos) << r.out;
  // The agent re-executed itself into slot B and confirmed it.
  EXPECT_GE(agent->count_output(kAgentOnline, Process::Stream::Either), 2u);
  EXPECT_TRUE(agent->wait_for_output("running 1.1.0, update state booted-unconfirmed", in(5s))) << agent->describe();
  const Result s = status();
  EXPECT_EQ(s.code, 0) << s.describe();
  EXPECT_EQ(s.out, "dev1@localhost: firmware 1.1.0; update committed 1.1.0 100%\n");
  // The same version again is a downgrade now.
  const Result again = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img});
  EXPECT_EQ(again.code, 1) << again.describe();
  EXPECT_NE(again.err.find("version: 1.1.0 is not newer than the installed 1.1.0"), std::string::npos) << again.err;
}

TEST_F(UpdateTest, TamperedImageFailsAndNothingIsInstalled) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw.img", "1.1.0", 64 * 1024, 1);
  const std::string m = sign(img, "1.1.0", "m");
  const std::string evil = image("evil.img", "1.1.0", 64 * 1024, 2);  // same size, other bytes
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", evil, "--timeout", "60"});
  EXPECT_EQ(r.code, 1) << r.describe();
  EXPECT_NE(r.err.find("update failed: sha256: the image does not match the manifest"), std::string::npos) << r.err;
  const Result s = status();
  EXPECT_NE(s.out.find("firmware 0.1.0; update failed 1.1.0"), std::string::npos) << s.out;
  EXPECT_EQ(agent->count_output(kAgentOnline, Process::Stream::Either), 1u);  // no reboot
}

TEST_F(UpdateTest, TruncatedImageFailsWhenTheSenderClosesItsStream) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw.img", "1.1.0", 64 * 1024, 1);
  const std::string m = sign(img, "1.1.0", "m");
  const std::string cut = dir() + "/cut.img";  // the first 40000 bytes of the signed image
  {
    std::ifstream in(img, std::ios::binary);
    std::string bytes(40000, '\0');
    in.read(&bytes[0], static_cast<std::streamsize>(bytes.size()));
    std::ofstream(cut, std::ios::binary) << bytes;
  }
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", cut, "--timeout", "60"});
  EXPECT_EQ(r.code, 1) << r.describe();
  const std::string whole = std::to_string(std::ifstream(img, std::ios::binary | std::ios::ate).tellg());
  EXPECT_NE(r.err.find("update failed: image truncated: the sender closed the stream after 40000 of " + whole + " bytes"),
            std::string::npos)
      << r.err;
  const Result s = status();
  EXPECT_NE(s.out.find("firmware 0.1.0; update failed 1.1.0"), std::string::npos) << s.out;
  EXPECT_EQ(agent->count_output(kAgentOnline, Process::Stream::Either), 1u);  // nothing installed, no reboot
}

TEST_F(UpdateTest, WrongKeyWrongBoardDowngradeAndNonOwnerAreRefused) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  subscribe("ops");
  const std::string img = image("fw.img", "1.1.0", 4096);
  struct Case {
    std::string manifest;
    std::string account;
    std::string expect;
  };
  const Case cases[] = {
      {sign(img, "1.1.0", "wrong-key", "other-keys"), "admin",
       "bad-request (bad-payload): signature: not made by any of the 1 trusted update key(s)"},
      {sign(img, "1.1.0", "wrong-board", "keys", "xiot,raspberrypi-4b"), "admin",
       "compatible: manifest is for \"xiot,raspberrypi-4b\", this board is \"xiot,sim\""},
      {sign(img, "0.0.9", "downgrade"), "admin", "version: 0.0.9 is not newer than the installed 0.1.0"},
      {sign(img, "1.1.0", "good"), "ops", "forbidden"},
  };
  for (const Case& c : cases) {
    const Result r = xiotctl(c.account, {"firmware", "push", "dev1", "--manifest", c.manifest, "--image", img});
    EXPECT_EQ(r.code, 1) << c.manifest << "\n" << r.describe();
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.manifest << "\n" << r.err;
  }
  const Result s = status();
  EXPECT_EQ(s.out, "dev1@localhost: firmware 0.1.0; update idle\n") << s.describe();
}

TEST_F(UpdateTest, CutTransferResumesFromTheStagedOffsetAndASecondUpdateIsRefused) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw.img", "1.2.0", 2 * 1024 * 1024);
  const std::string m = sign(img, "1.2.0", "m");
  // One block in flight at a time: slow enough to cut mid-way.
  auto first = run_xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--window", "1"});
  ASSERT_TRUE(first->wait_for_output("xiotctl: 10%", in(60s), Process::Stream::Err)) << first->describe();
  // A second update while this one runs: conflict.
  const std::string other = image("other.img", "1.3.0", 4096);
  const Result busy = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", sign(other, "1.3.0", "m2"),
                                        "--image", other});
  EXPECT_EQ(busy.code, 1) << busy.describe();
  EXPECT_NE(busy.err.find("conflict: an update to 1.2.0 is in progress (downloading)"), std::string::npos)
      << busy.err;
  first->kill(SIGKILL);  // the sender's link is gone mid-transfer
  (void)first->wait_exit(in(10s));
  const Result mid = status();
  EXPECT_NE(mid.out.find("update downloading 1.2.0"), std::string::npos) << mid.out;
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--timeout", "85"});
  ASSERT_EQ(r.code, 0) << r.describe() << "\nagent:\n" << agent->describe();
  std::smatch at;
  ASSERT_TRUE(std::regex_search(r.err, at, std::regex("from offset ([0-9]+)"))) << r.err;
  EXPECT_GT(std::stoull(at[1]), 0u) << r.err;
  report("2 MiB push, resumed", r);
  EXPECT_NE(r.out.find("firmware 1.2.0; update committed 1.2.0"), std::string::npos) << r.out;
}

TEST_F(UpdateTest, AgentKilledDuringTheInstallStillBootsAndFinishes) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw.img", "1.1.0", 64 * 1024);
  const std::string m = sign(img, "1.1.0", "m");
  auto push = run_xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--timeout", "85"});
  // Every block answered, and the install (1 s on the sim) under way.
  ASSERT_TRUE(push->wait_for_output("bytes/s over IBB", in(40s), Process::Stream::Err)) << push->describe();
  ASSERT_TRUE(agent->wait_for_output("INFO update: installing 1.1.0", in(40s))) << agent->describe();
  agent->kill(SIGKILL);  // a power cut while installing
  (void)agent->wait_exit(in(10s));
  agent = start_agent(agent_config());  // the old slot boots; the staged image is verified and installed again
  EXPECT_TRUE(agent->wait_for_output("INFO update: installer sim, running 0.1.0", in(5s))) << agent->describe();
  const std::optional<int> code = push->wait_exit(in(90s));
  EXPECT_EQ(code, 0) << push->describe() << "\nagent:\n" << agent->describe();
  const Result s = status();
  EXPECT_NE(s.out.find("firmware 1.1.0; update committed 1.1.0"), std::string::npos) << s.describe();
}

TEST_F(UpdateTest, FailedHealthGateRollsBack) {
  auto agent = start_agent(agent_config(5));
  subscribe("admin");
  const std::string img = image("bad.img", "1.1.0 self-test=fail", 16 * 1024);
  const std::string m = sign(img, "1.1.0", "m");
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--timeout", "85"});
  EXPECT_EQ(r.code, 1) << r.describe() << "\nagent:\n" << agent->describe();
  report("health gate", r);
  EXPECT_NE(r.err.find("update rolled-back: health gate: board self-test failed within 5 s; rolling back to 0.1.0"),
            std::string::npos)
      << r.err;
  // Back on the old slot, and it says so.
  ASSERT_TRUE(xiot::test::wait_until(
      [&] { return agent->count_output(kAgentOnline, Process::Stream::Either) >= 3; }, in(30s)))
      << agent->describe();
  const Result s = status();
  EXPECT_NE(s.out.find("firmware 0.1.0; update rolled-back 1.1.0"), std::string::npos) << s.describe();
}

}  // namespace

namespace {

TEST_F(UpdateTest, ServerRestartMidTransferResumesAfterReconnect) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw.img", "1.2.0", 2 * 1024 * 1024);
  const std::string m = sign(img, "1.2.0", "m");
  auto first = run_xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--window", "1"});
  ASSERT_TRUE(first->wait_for_output("xiotctl: 10%", in(60s), Process::Stream::Err)) << first->describe();
  server_.restart();  // every link drops, mid-transfer
  const std::optional<int> code = first->wait_exit(in(30s));
  EXPECT_EQ(code, 3) << first->describe();  // connection lost
  ASSERT_TRUE(xiot::test::wait_until(
      [&] { return agent->count_output(kAgentOnline, Process::Stream::Either) >= 2; }, in(40s)))
      << agent->describe();
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--timeout", "85"});
  ASSERT_EQ(r.code, 0) << r.describe() << "\nagent:\n" << agent->describe();
  std::smatch at;
  ASSERT_TRUE(std::regex_search(r.err, at, std::regex("from offset ([0-9]+)"))) << r.err;
  EXPECT_GT(std::stoull(at[1]), 0u) << r.err;
  report("2 MiB push after a server restart", r);
}

TEST_F(UpdateTest, EightMiBThroughput) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("big.img", "2.0.0", 8 * 1024 * 1024);
  const std::string m = sign(img, "2.0.0", "m");
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--timeout", "100"},
                           110s);
  ASSERT_EQ(r.code, 0) << r.describe();
  report("8 MiB push, window 4", r);
  EXPECT_NE(r.out.find("firmware 2.0.0; update committed 2.0.0"), std::string::npos) << r.out;
}

// --- transport url: the image from an XEP-0363 slot over HTTPS ---------------------------

TEST_F(UpdateTest, HttpPushUploadsThenTheDeviceFetchesAndCommits) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw-http.img", "1.4.0", 4 * 1024 * 1024, 7);
  const std::string m = sign(img, "1.4.0", "m");
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--via", "http",
                                     "--timeout", "80"});
  ASSERT_EQ(r.code, 0) << r.describe() << "\nagent:\n" << agent->describe();
  report("4 MiB push --via http", r);
  EXPECT_NE(r.err.find("over HTTPS (https://"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("dev1@localhost: firmware 1.4.0; update committed 1.4.0"), std::string::npos) << r.out;
}

TEST_F(UpdateTest, HttpDownloadCutMidwayResumesWithRange) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw-cut.img", "1.5.0", 300 * 1024, 8);
  const std::string m = sign(img, "1.5.0", "m");
  const std::string port = range_server(img);
  // The server closes every connection after 100000 body bytes: the agent
  // reconnects from its staged offset with a Range request each time.
  const Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--url",
                                     "https://localhost:" + port + "/cut/100000", "--timeout", "80"});
  ASSERT_EQ(r.code, 0) << r.describe() << "\nagent:\n" << agent->describe();
  EXPECT_NE(r.out.find("firmware 1.5.0; update committed 1.5.0"), std::string::npos) << r.out;
  EXPECT_TRUE(agent->wait_for_output("retrying from byte 100000", in(1s))) << agent->describe();
  EXPECT_NE(range_->err().find("bytes=100000-"), std::string::npos) << range_->err();
  EXPECT_NE(range_->err().find("bytes=200000-"), std::string::npos) << range_->err();
}

TEST_F(UpdateTest, HttpUrlsTheDeviceRefuse) {
  auto agent = start_agent(agent_config());
  subscribe("admin");
  const std::string img = image("fw-bad.img", "1.6.0", 64 * 1024, 9);
  const std::string m = sign(img, "1.6.0", "m");
  // http:// is refused before anything is fetched.
  Result r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--url",
                               "http://localhost:1/fw.img", "--timeout", "30"});
  EXPECT_EQ(r.code, 1) << r.describe();
  EXPECT_NE(r.err.find("url: bad download URL"), std::string::npos) << r.err;
  EXPECT_NE(status().out.find("update failed 1.6.0 (url: bad download URL"), std::string::npos);
  // A slot that is gone: the operator is told to push again.
  std::string port = range_server(img);
  r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--url",
                        "https://localhost:" + port + "/missing", "--timeout", "30"});
  EXPECT_EQ(r.code, 1) << r.describe();
  EXPECT_NE(r.err.find("push the update again"), std::string::npos) << r.err;
  // A server the fleet's CA does not vouch for: nothing is fetched.
  port = range_server(img, true);
  r = xiotctl("admin", {"firmware", "push", "dev1", "--manifest", m, "--image", img, "--url",
                        "https://localhost:" + port + "/file", "--timeout", "30"});
  EXPECT_EQ(r.code, 1) << r.describe();
  EXPECT_NE(r.err.find("update failed: download: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
  EXPECT_EQ(range_->err().find("GET /file"), std::string::npos) << range_->err();
  const Result s = status();
  EXPECT_NE(s.out.find("firmware 0.1.0; update failed 1.6.0"), std::string::npos) << s.out;
}

}  // namespace
