// `xiot-agent setup` (app/setup.hpp): flags and provisioning files in, a config
// the agent's own loader accepts out; every refusal names what is wrong and
// leaves nothing behind; modes checked with stat; ownership through the seam.
// Also the choice of the reboot backend (app/reboot_backend.hpp).
#include "app/setup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "app/reboot_backend.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kBoards = XIOT_BOARDS_DIR;
const std::string kPem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const std::string kSecret = "pw-Secret-42";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "xiot-setup-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = fs::canonical(tmpl).string();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& rel, const std::string& text) const {
    const fs::path p = fs::path(path_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<unsigned>(st.st_mode & 07777);
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// Records what setup asked to chown; fails `fail_kind` with `fail_errno`.
class FakeOwnership : public agent::SetupOwnership {
 public:
  int apply(const char* path, agent::SetupFile kind) override {
    calls.emplace_back(fs::path(path).filename().string(), kind);
    return kind == fail_kind ? fail_errno : 0;
  }
  std::vector<std::pair<std::string, agent::SetupFile>> calls;
  agent::SetupFile fail_kind = static_cast<agent::SetupFile>(255);
  int fail_errno = 0;
};

struct SetupRun {
  int rc = -1;
  std::string out;
  std::string err;
};

/// Runs setup with `args` (after "setup"); `stdin_text` feeds --password-stdin.
SetupRun setup(const std::vector<std::string>& args, FakeOwnership* own = nullptr, const std::string& stdin_text = "") {
  std::vector<std::string> all = {"setup"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  EXPECT_EQ(::write(fds[1], stdin_text.data(), stdin_text.size()), static_cast<ssize_t>(stdin_text.size()));
  ::close(fds[1]);
  char* out_buf = nullptr;
  size_t out_len = 0;
  char* err_buf = nullptr;
  size_t err_len = 0;
  std::FILE* out = ::open_memstream(&out_buf, &out_len);
  std::FILE* err = ::open_memstream(&err_buf, &err_len);
  FakeOwnership local;
  SetupRun r;
  r.rc = agent::run_setup(static_cast<int>(all.size()), argv.data(), own != nullptr ? *own : local, out, err, fds[0]);
  std::fclose(out);
  std::fclose(err);
  ::close(fds[0]);
  r.out.assign(out_buf, out_len);
  r.err.assign(err_buf, err_len);
  std::free(out_buf);
  std::free(err_buf);
  EXPECT_EQ(r.out.find(kSecret), std::string::npos);
  EXPECT_EQ(r.err.find(kSecret), std::string::npos);
  return r;
}

class Setup : public ::testing::Test {
 protected:
  void SetUp() override {
    pw_ = dir_.write("in/pw", kSecret + "\n");
    ca_ = dir_.write("in/ca.pem", kPem);
    etc_ = dir_.path() + "/etc";
    state_ = dir_.path() + "/state";
  }
  /// Flags every run needs: the directories, and the password file.
  std::vector<std::string> dirs() const {
    return {"--config-dir", etc_, "--state-dir", state_, "--boards-dir", kBoards};
  }
  std::vector<std::string> device(std::vector<std::string> more = {}) const {
    std::vector<std::string> a = {"--jid", "dev1@localhost", "--board", "sim", "--password-file", pw_};
    a.insert(a.end(), more.begin(), more.end());
    const std::vector<std::string> d = dirs();
    a.insert(a.end(), d.begin(), d.end());
    return a;
  }
  TempDir dir_;
  std::string pw_, ca_, etc_, state_;
};

TEST_F(Setup, FlagsWriteAConfigTheAgentLoads) {
  FakeOwnership own;
  const SetupRun r = setup(device({"--server", "127.0.0.1:5223", "--ca", ca_, "--owner", "Admin@localhost", "--operator",
                              "ops@localhost", "--viewer", "*@localhost", "--owner", "boss@example.com"}),
                      &own);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(entries(etc_), (std::vector<std::string>{"agent.json", "ca.crt", "password"}));
  EXPECT_EQ(mode_of(etc_ + "/agent.json"), 0640u);
  EXPECT_EQ(mode_of(etc_ + "/password"), 0600u);
  EXPECT_EQ(mode_of(etc_ + "/ca.crt"), 0644u);
  EXPECT_EQ(mode_of(etc_), 0750u);  // created by setup
  EXPECT_EQ(slurp(etc_ + "/password"), kSecret + "\n");
  EXPECT_EQ(slurp(etc_ + "/ca.crt"), kPem);
  EXPECT_EQ(slurp(etc_ + "/agent.json").find(kSecret), std::string::npos);
  EXPECT_EQ(slurp(etc_ + "/agent.json").rfind("// xiot-agent configuration, written by", 0), 0u);

  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config((etc_ + "/agent.json").c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.jid, "dev1@localhost");
  EXPECT_EQ(c.xmpp.password, kSecret);
  EXPECT_EQ(c.xmpp.password_file, etc_ + "/password");
  EXPECT_EQ(c.xmpp.host, "127.0.0.1");
  EXPECT_EQ(c.xmpp.port, 5223);
  EXPECT_EQ(c.xmpp.ca_file, etc_ + "/ca.crt");
  EXPECT_EQ(c.board, fs::canonical(kBoards + "/sim/board.json").string());
  EXPECT_EQ(c.acl.owners, (std::vector<std::string>{"admin@localhost", "boss@example.com"}));
  EXPECT_EQ(c.acl.operators, std::vector<std::string>{"ops@localhost"});
  EXPECT_EQ(c.acl.viewers, std::vector<std::string>{"*@localhost"});
  EXPECT_EQ(c.journal.path, state_ + "/journal");
  EXPECT_EQ(c.reboot, agent::RebootMethod::Logind);

  // What it says: every file with owner and mode, and the next step.
  EXPECT_NE(r.out.find("wrote " + etc_ + "/agent.json ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 0640)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote " + etc_ + "/password ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("device dev1@localhost, server 127.0.0.1:5223, board sim"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("next: systemctl restart xiot-agent\n"), std::string::npos) << r.out;

  // The ownership seam saw each file while staged, and the new directory.
  ASSERT_EQ(own.calls.size(), 4u);
  EXPECT_EQ(own.calls[0], std::make_pair(std::string("etc"), agent::SetupFile::ConfigDir));
  EXPECT_EQ(own.calls[1], std::make_pair(std::string("ca.crt"), agent::SetupFile::Ca));
  EXPECT_EQ(own.calls[2], std::make_pair(std::string("password"), agent::SetupFile::Password));
  EXPECT_EQ(own.calls[3], std::make_pair(std::string("agent.json"), agent::SetupFile::Config));
}

TEST_F(Setup, MinimalFlagsUseTheJidDomainAndTheSystemTrustStore) {
  fs::create_directories(etc_);
  fs::permissions(etc_, fs::perms::owner_all);
  const SetupRun r = setup(device());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(entries(etc_), (std::vector<std::string>{"agent.json", "password"}));
  EXPECT_EQ(mode_of(etc_), 0700u);  // an existing directory is left as it is
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config((etc_ + "/agent.json").c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.host, "localhost");
  EXPECT_EQ(c.xmpp.port, 5222);
  EXPECT_EQ(c.xmpp.ca_file, "");
  EXPECT_NE(r.out.find("system trust store"), std::string::npos) << r.out;
}

TEST_F(Setup, PasswordFromStdinAndBracketedIpv6Server) {
  std::vector<std::string> a = {"--jid", "dev2@example.com", "--board", kBoards + "/sim/board.json",
                                "--password-stdin", "--server", "[::1]:5270"};
  const std::vector<std::string> d = dirs();
  a.insert(a.end(), d.begin(), d.end());
  const SetupRun r = setup(a, nullptr, kSecret + "\r\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config((etc_ + "/agent.json").c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.password, kSecret);
  EXPECT_EQ(c.xmpp.host, "::1");
  EXPECT_EQ(c.xmpp.port, 5270);
}

TEST_F(Setup, ProvisioningFileWithCommentsInlineCaAndOverrides) {
  const std::string pem_json = "-----BEGIN CERTIFICATE-----\\nMIIBfake\\n-----END CERTIFICATE-----\\n";
  const std::string prov = dir_.write("prov/dev7.json", R"(// one file per device
{
  "jid": "dev7@localhost", "server": "xmpp.example.net",
  "ca": ")" + pem_json + R"(",
  "board": "../boards/sim/board.json",   /* relative to this file */
  "owners": ["admin@localhost"], "viewers": ["*@localhost"],
  "password": ")" + kSecret + R"(",
  "telemetry": {"interval_s": 2, "encoding": "protobuf"},
  "journal": {"fsync": "always"},
  "log": {"level": "debug"}
})");
  fs::create_directories(dir_.path() + "/boards");
  fs::copy(kBoards + "/sim", dir_.path() + "/boards/sim", fs::copy_options::recursive);
  std::vector<std::string> a = {"--from", prov};
  const std::vector<std::string> d = dirs();
  a.insert(a.end(), d.begin(), d.end());
  const SetupRun r = setup(a);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(slurp(etc_ + "/ca.crt"), kPem);
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config((etc_ + "/agent.json").c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.jid, "dev7@localhost");
  EXPECT_EQ(c.xmpp.host, "xmpp.example.net");
  EXPECT_EQ(c.xmpp.password, kSecret);
  EXPECT_EQ(c.board, dir_.path() + "/boards/sim/board.json");
  EXPECT_EQ(c.acl.owners, std::vector<std::string>{"admin@localhost"});
  EXPECT_TRUE(c.acl.operators.empty());
  EXPECT_DOUBLE_EQ(c.telemetry.interval_s, 2);
  EXPECT_EQ(c.telemetry.encoding, agent::Encoding::Protobuf);
  EXPECT_EQ(c.journal.path, state_ + "/journal");  // merged: the default path stays
  EXPECT_EQ(c.journal.fsync, agent::FsyncPolicy::Always);
  EXPECT_EQ(c.log_level, agent::LogLevel::Debug);
  EXPECT_EQ(c.reboot, agent::RebootMethod::Logind);
}

TEST_F(Setup, ProvisioningFileCaPathAndPasswordFromAFlag) {
  const std::string prov = dir_.write("in/dev8.json", R"({"jid": "dev8@localhost", "ca": "ca.pem", "board": "sim",
                                                          "reboot": "exec"})");
  std::vector<std::string> a = {"--from", prov, "--password-file", pw_};
  const std::vector<std::string> d = dirs();
  a.insert(a.end(), d.begin(), d.end());
  const SetupRun r = setup(a);
  ASSERT_EQ(r.rc, 0) << r.err;
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config((etc_ + "/agent.json").c_str(), &c, &error)) << error;
  EXPECT_EQ(slurp(etc_ + "/ca.crt"), kPem);
  EXPECT_EQ(c.xmpp.password, kSecret);
  EXPECT_EQ(c.reboot, agent::RebootMethod::Exec);  // the file's override
}

TEST_F(Setup, ExistingConfigIsKeptWithoutForceAndReplacedWithIt) {
  ASSERT_EQ(setup(device()).rc, 0);
  const std::string before = slurp(etc_ + "/agent.json");
  std::vector<std::string> again = device({"--owner", "admin@localhost"});
  again[1] = "dev9@localhost";
  const SetupRun refused = setup(again);
  EXPECT_EQ(refused.rc, 2);
  EXPECT_EQ(refused.err, etc_ + "/agent.json: exists; not overwritten (give --force to replace it, or edit it and "
                                "check it with xiot-agent --config " + etc_ + "/agent.json --check-config)\n");
  EXPECT_EQ(slurp(etc_ + "/agent.json"), before);
  again.push_back("--force");
  const SetupRun forced = setup(again);
  ASSERT_EQ(forced.rc, 0) << forced.err;
  EXPECT_NE(slurp(etc_ + "/agent.json").find("dev9@localhost"), std::string::npos);
  EXPECT_EQ(entries(etc_), (std::vector<std::string>{"agent.json", "password"}));
}

TEST_F(Setup, FailedValidationLeavesNothingBehind) {
  // The loader refuses the override: no file, no staging directory, and the
  // config directory setup created is gone again. The message names the
  // provisioning file and the key.
  const std::string prov = dir_.write("in/bad.json", R"({"jid": "dev1@localhost", "board": "sim",
    "password": "x", "telemetry": {"interval_s": 0}})");
  std::vector<std::string> a = {"--from", prov};
  const std::vector<std::string> d = dirs();
  a.insert(a.end(), d.begin(), d.end());
  const SetupRun r = setup(a);
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, prov + ": telemetry.interval_s: expected a number from 0.05 to 86400, got 0\n");
  EXPECT_FALSE(fs::exists(etc_));
  EXPECT_EQ(r.out, "");
}

TEST_F(Setup, FailedValidationKeepsTheOldConfigUnderForce) {
  ASSERT_EQ(setup(device()).rc, 0);
  const std::string before = slurp(etc_ + "/agent.json");
  const std::string prov = dir_.write("in/bad.json", R"({"jid": "dev5@localhost", "board": "sim",
    "password": "other", "journal": {"max_bytes": 1}})");
  std::vector<std::string> a = {"--from", prov, "--force"};
  const std::vector<std::string> d = dirs();
  a.insert(a.end(), d.begin(), d.end());
  const SetupRun r = setup(a);
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, prov + ": journal.max_bytes: expected an integer from 4096 to 1073741824, got 1\n");
  EXPECT_EQ(slurp(etc_ + "/agent.json"), before);
  EXPECT_EQ(slurp(etc_ + "/password"), kSecret + "\n");
  EXPECT_EQ(entries(etc_), (std::vector<std::string>{"agent.json", "password"}));
}

TEST_F(Setup, OwnershipFailureLeavesNothingBehind) {
  FakeOwnership own;
  own.fail_kind = agent::SetupFile::Password;
  own.fail_errno = EPERM;
  fs::create_directories(etc_);
  const SetupRun r = setup(device(), &own);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "xiot-agent setup: cannot write " + etc_ + "/password: Operation not permitted\n");
  EXPECT_TRUE(entries(etc_).empty());
}

TEST_F(Setup, UnwritableConfigDirIsASystemError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  fs::create_directories(etc_);
  fs::permissions(etc_, fs::perms::owner_read | fs::perms::owner_exec);
  const SetupRun r = setup(device());
  fs::permissions(etc_, fs::perms::owner_all);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "xiot-agent setup: cannot write in " + etc_ + ": Permission denied\n");
  EXPECT_TRUE(entries(etc_).empty());
}

TEST_F(Setup, HelpPrintsTheUsage) {
  const SetupRun r = setup({"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, agent::setup_usage());
  EXPECT_NE(r.out.find("--password-stdin"), std::string::npos);
  EXPECT_NE(r.out.find("--from FILE"), std::string::npos);
}

// ---- every refusal: exit 2, one line naming the flag or key, nothing written ----

struct Refusal {
  const char* name;
  std::vector<std::string> args;  // {PW} = the password file, {CA} the CA, {D} the temp dir
  std::string expected;           // the whole stderr line; {PW}, {D}, {B} (boards dir) substituted
  std::string prov = "";          // written to {D}/in/p.json when set
};

std::string subst(std::string s, const std::string& d, const std::string& pw) {
  for (const auto& kv : std::vector<std::pair<std::string, std::string>>{
           {"{PW}", pw}, {"{D}", d}, {"{B}", kBoards}, {"{CA}", d + "/in/ca.pem"}}) {
    for (size_t at = s.find(kv.first); at != std::string::npos; at = s.find(kv.first, at + kv.second.size())) {
      s.replace(at, kv.first.size(), kv.second);
    }
  }
  return s;
}

std::vector<Refusal> refusals() {
  const std::string jid_what = "expected a bare JID like dev1@example.com, got ";
  const std::string long_local(1100, 'a');
  const std::string T = "xiot-agent setup: ";
  const std::vector<std::string> base = {"--board", "sim", "--password-file", "{PW}"};
  auto with = [&](std::vector<std::string> a) {
    a.insert(a.end(), base.begin(), base.end());
    return a;
  };
  auto jid = [&](const std::string& j) { return with({"--jid", j}); };
  const std::string server_what = "expected a host name or IP address, optionally with :PORT (1 to 65535), got ";
  return {
      // hostile JIDs
      {"jid_no_domain", jid("dev1"), T + "--jid: " + jid_what + "\"dev1\" (no '@')"},
      {"jid_empty_domain", jid("dev1@"), T + "--jid: " + jid_what + "\"dev1@\" (empty domain)"},
      {"jid_space", jid("dev 1@localhost"),
       T + "--jid: " + jid_what + "\"dev 1@localhost\" (contains whitespace or control characters)"},
      {"jid_newline", jid("dev1@localhost\nowners"),
       T + "--jid: " + jid_what + "\"dev1@localhost\\u000aowners\" (contains whitespace or control characters)"},
      {"jid_resource", jid("dev1@localhost/x"), T + "--jid: " + jid_what + "\"dev1@localhost/x\" (has a resource)"},
      {"jid_quote", jid("a\"b@localhost"),
       T + "--jid: " + jid_what + "\"a\\\"b@localhost\" (local part contains one of \"&'/:<>@)"},
      {"jid_too_long", jid(long_local + "@localhost"),
       T + "--jid: " + jid_what + "\"" + std::string(64, 'a') + "...\" (local part longer than 1023 bytes)"},
      {"jid_twice", with({"--jid", "a@b", "--jid", "c@d"}), T + "--jid: given twice"},
      {"jid_missing", with({}), T + "--jid: missing; expected a bare JID like dev1@example.com (or --from FILE)"},
      // arguments
      {"password_on_argv", {"--jid", "a@b", "--password", "x"},
       T + "--password: not accepted (a password on the command line is visible to every user in ps and in shell "
           "history); use --password-file FILE or --password-stdin"},
      {"no_password", {"--jid", "dev1@localhost", "--board", "sim"},
       T + "no password: give --password-file FILE or --password-stdin"},
      {"two_password_sources",
       {"--jid", "dev1@localhost", "--board", "sim", "--password-file", "{PW}", "--password-stdin"},
       T + "give one of --password-file and --password-stdin"},
      {"password_file_missing", {"--jid", "dev1@localhost", "--board", "sim", "--password-file", "{D}/nope"},
       T + "--password-file: cannot read {D}/nope: No such file or directory"},
      {"password_file_empty", {"--jid", "dev1@localhost", "--board", "sim", "--password-file", "{D}/in/empty"},
       T + "--password-file: {D}/in/empty: empty; expected the device's XMPP password"},
      {"unknown_flag", {"--jdi", "a@b"}, T + "unknown argument \"--jdi\" (see xiot-agent setup --help)"},
      {"flag_without_value", {"--jid"}, T + "--jid: needs a value"},
      // board
      {"board_missing", {"--jid", "dev1@localhost", "--password-file", "{PW}"},
       T + "--board: missing; expected a board name (letters, digits, '-', '_', '.') or the path of a board.json"},
      {"board_unknown", {"--jid", "dev1@localhost", "--board", "nosuch", "--password-file", "{PW}"},
       T + "--board: no board \"nosuch\": cannot read {B}/nosuch/board.json: No such file or directory (boards are "
           "looked up in {B}; see --boards-dir)"},
      {"board_hostile_name", {"--jid", "dev1@localhost", "--board", "..", "--password-file", "{PW}"},
       T + "--board: expected a board name (letters, digits, '-', '_', '.') or the path of a board.json, got \"..\""},
      {"board_not_json", {"--jid", "dev1@localhost", "--board", "{D}/in/ca.pem", "--password-file", "{PW}"},
       "{D}/in/ca.pem:1:1: malformed JSON near \"-----BEGIN CERTIFICATE--\""},
      // server, CA, ACL
      {"server_port_zero", with({"--jid", "a@b", "--server", "h:0"}),
       T + "--server: " + server_what + "\"h:0\" (port is not a number from 1 to 65535)"},
      {"server_port_big", with({"--jid", "a@b", "--server", "h:65536"}),
       T + "--server: " + server_what + "\"h:65536\" (port is not a number from 1 to 65535)"},
      {"server_port_text", with({"--jid", "a@b", "--server", "h:xmpp"}),
       T + "--server: " + server_what + "\"h:xmpp\" (port is not a number from 1 to 65535)"},
      {"server_v6_bare", with({"--jid", "a@b", "--server", "::1"}),
       T + "--server: " + server_what + "\"::1\" (an IPv6 address needs brackets: [::1]:5222)"},
      {"server_space", with({"--jid", "a@b", "--server", "my host"}),
       T + "--server: " + server_what + "\"my host\" (contains whitespace or control characters)"},
      {"ca_missing", with({"--jid", "dev1@localhost", "--ca", "{D}/nope.pem"}),
       T + "--ca: cannot read {D}/nope.pem: No such file or directory"},
      {"ca_not_pem", with({"--jid", "dev1@localhost", "--ca", "{PW}"}),
       T + "--ca: {PW}: expected a PEM certificate (-----BEGIN CERTIFICATE-----), got something else"},
      {"owner_not_jid", with({"--jid", "a@b", "--owner", "admin"}),
       T + "--owner: expected a bare JID (local@domain) or *@domain, got \"admin\" (no '@')"},
      {"viewer_bad_wildcard", with({"--jid", "a@b", "--viewer", "dev*@localhost"}),
       T + "--viewer: expected a bare JID (local@domain) or *@domain, got \"dev*@localhost\" ('*' is only a "
           "wildcard as the whole local part: *@domain)"},
      // provisioning files
      {"from_and_flags", {"--from", "{D}/in/p.json", "--jid", "a@b"},
       T + "--from: the provisioning file holds the device's settings; give either --from FILE or "
           "--jid/--server/--ca/--board/--owner/--operator/--viewer, not both",
       "{}"},
      {"from_missing_file", {"--from", "{D}/in/none.json"}, "{D}/in/none.json: cannot read: No such file or directory"},
      {"from_malformed", {"--from", "{D}/in/p.json"}, "{D}/in/p.json:2:1: malformed JSON at end of file",
       "{\"jid\": \"a@b\",\n"},
      {"from_unknown_key", {"--from", "{D}/in/p.json"}, "{D}/in/p.json: owner: unknown key (did you mean \"owners\"?)",
       R"({"jid": "a@b", "owner": ["x@y"]})"},
      {"from_hostile_jid", {"--from", "{D}/in/p.json"},
       "{D}/in/p.json: jid: expected a bare JID like dev1@example.com, got \"dev 1@x\" (contains whitespace or "
       "control characters)",
       R"({"jid": "dev 1@x", "board": "sim", "password": "x"})"},
      {"from_jid_missing", {"--from", "{D}/in/p.json"},
       "{D}/in/p.json: jid: missing; expected a bare JID like dev1@example.com", R"({"board": "sim"})"},
      {"from_board_missing", {"--from", "{D}/in/p.json"},
       "{D}/in/p.json: board: missing; expected a board name (letters, digits, '-', '_', '.') or the path of a "
       "board.json",
       R"({"jid": "a@b"})"},
      {"from_bad_owner", {"--from", "{D}/in/p.json"},
       "{D}/in/p.json: owners[1]: expected a bare JID (local@domain) or *@domain, got \"x\" (no '@')",
       R"({"jid": "a@b", "board": "sim", "owners": ["ok@b", "x"], "password": "x"})"},
      {"from_password_number", {"--from", "{D}/in/p.json"},
       "{D}/in/p.json: password: expected the device's XMPP password (a non-empty string), got a number",
       R"({"jid": "a@b", "board": "sim", "password": 123456})"},
      {"from_password_twice", {"--from", "{D}/in/p.json", "--password-file", "{PW}"},
       T + "--password-file: {D}/in/p.json already holds a password; give it in one place",
       R"({"jid": "a@b", "board": "sim", "password": "x"})"},
      {"from_no_password", {"--from", "{D}/in/p.json"},
       T + "no password: give --password-file FILE or --password-stdin (or \"password\" in {D}/in/p.json)",
       R"({"jid": "a@b", "board": "sim"})"},
      {"from_bad_server", {"--from", "{D}/in/p.json"},
       "{D}/in/p.json: server: " + server_what + "\"h:0\" (port is not a number from 1 to 65535)",
       R"({"jid": "a@b", "board": "sim", "server": "h:0"})"},
      {"from_ca_not_pem", {"--from", "{D}/in/p.json"},
       "{D}/in/p.json: ca: {D}/in/pw: expected a PEM certificate (-----BEGIN CERTIFICATE-----), got something else",
       R"({"jid": "a@b", "board": "sim", "ca": "pw"})"},
      {"from_bad_reboot", {"--from", "{D}/in/p.json"},
       "{D}/in/p.json: reboot: expected \"exec\" or \"logind\", got \"now\"",
       R"({"jid": "a@b", "board": "sim", "password": "x", "reboot": "now"})"},
  };
}

class SetupRefusals : public ::testing::TestWithParam<Refusal> {};

TEST_P(SetupRefusals, ExitTwoOneLineNothingWritten) {
  const Refusal& c = GetParam();
  TempDir dir;
  const std::string pw = dir.write("in/pw", kSecret + "\n");
  dir.write("in/ca.pem", kPem);
  dir.write("in/empty", "\n");
  if (!c.prov.empty()) dir.write("in/p.json", c.prov);
  std::vector<std::string> args;
  for (const std::string& a : c.args) args.push_back(subst(a, dir.path(), pw));
  for (const std::string& a : std::vector<std::string>{"--config-dir", dir.path() + "/etc", "--state-dir",
                                                        dir.path() + "/state", "--boards-dir", kBoards}) {
    args.push_back(a);
  }
  const SetupRun r = setup(args);
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, subst(c.expected, dir.path(), pw) + "\n");
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(dir.path() + "/etc"));
}

INSTANTIATE_TEST_SUITE_P(Table, SetupRefusals, ::testing::ValuesIn(refusals()),
                         [](const ::testing::TestParamInfo<Refusal>& i) { return std::string(i.param.name); });

// ---- the reboot backend -------------------------------------------------------------

TEST(RebootBackend, ChosenByTheConfigKey) {
  // exec: with no argv to exec it refuses (and does not replace this test).
  char* no_args[] = {nullptr};
  const auto exec = agent::make_reboot_backend(agent::RebootMethod::Exec, no_args);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(exec->restart(), hal::Err::InvalidArgument);
  EXPECT_STREQ(exec->error_text(), "");
  // logind: talks to the system bus, here one that is not there.
  const char* saved = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  const std::string keep = saved != nullptr ? saved : "";
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/xiot-test/system_bus_socket", 1);
  const auto logind = agent::make_reboot_backend(agent::RebootMethod::Logind, no_args);
  ASSERT_NE(logind, nullptr);
  EXPECT_EQ(logind->restart(), hal::Err::Io);
  EXPECT_NE(std::string(logind->error_text()).find("system D-Bus"), std::string::npos) << logind->error_text();
  if (saved != nullptr) {
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", keep.c_str(), 1);
  } else {
    ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  }
}

}  // namespace
