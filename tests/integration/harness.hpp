// Integration-test fixture: a real XMPP server per test (tools/devserver:
// Prosody, or ejabberd with XIOT_TEST_SERVER=ejabberd, or an ejabberd
// cluster), child processes with captured output, bounded waits, and
// config-file writers.
//
//   xiot::test::DevServer server;                 // fresh server in a temp dir
//   auto cfg = xiot::test::write_agent_config(server, server.dir() + "/agent.json");
//   xiot::test::Process agent({xiot::test::binary_path("xiot-agent"), "--config", cfg});
//   ASSERT_TRUE(agent.wait_for_output("logged in", xiot::test::in(10s)));
//   server.restart();                              // same port, data and certs
//
// Every wait takes a deadline; nothing sleeps for a fixed time. Servers and
// processes are stopped by their destructors, and a server whose test binary
// died anyway is stopped by the devserver's owner watcher (--owner-pid).
// Library: xiot_test_harness (links GTest and cJSON).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

struct cJSON;

namespace xiot::test {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

/// A deadline `d` from now: `in(std::chrono::seconds(5))`.
inline Deadline in(Clock::duration d) { return Clock::now() + d; }

/// Polls `predicate` every `poll` until it is true (returns true) or the
/// deadline passes (returns false). Checks once more at the deadline.
bool wait_until(const std::function<bool()>& predicate, Deadline deadline,
                std::chrono::milliseconds poll = std::chrono::milliseconds(10));

/// Absolute path of a file in the source tree ("tools/devserver").
std::string source_path(const std::string& rel);
/// Absolute path of a file in the build tree ("xiotctl", "xiot-agent").
std::string binary_path(const std::string& rel);
/// How many channels boards/sim/board.json has once built (Board::open on a
/// manual clock): what an agent on the default board reports, so tests follow
/// the board file instead of repeating its count.
size_t sim_board_channels();

/// A fresh directory under $TMPDIR (default /tmp), removed by the destructor
/// unless the current test failed or XIOT_KEEP_TMP is set (then its path is
/// printed so the logs can be read).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "xiot-it");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// path() + "/" + rel
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  /// Leave the directory in place (and say so) whatever the test's outcome.
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

/// A child process with stdout/stderr captured to files (no pipe to drain,
/// nothing lost when it dies). It runs in its own process group; the
/// destructor SIGKILLs that group and reaps the child.
class Process {
 public:
  struct Options {
    std::vector<std::string> argv;           ///< argv[0] is the program (a path, or a name in $PATH)
    std::map<std::string, std::string> env;  ///< added to / overriding the inherited environment
    std::string cwd;                         ///< "" = inherit
    std::string log_dir;                     ///< where <name>.<pid>.out/.err go; "" = a TempDir of its own
    bool stdin_pipe = false;                 ///< write_stdin() needs it; else stdin is /dev/null
  };
  explicit Process(Options options);
  /// Shorthand: argv only.
  explicit Process(std::vector<std::string> argv);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  /// Everything written so far.
  std::string out() const;
  std::string err() const;
  const std::string& out_path() const { return out_path_; }
  const std::string& err_path() const { return err_path_; }

  enum class Stream { Out, Err, Either };
  /// Waits until the stream contains `needle` (substring). False at the deadline,
  /// or early when the process exited without printing it.
  bool wait_for_output(const std::string& needle, Deadline deadline, Stream stream = Stream::Either);
  /// Same with a regular expression (std::regex_search over the whole text).
  bool wait_for_output(const std::regex& re, Deadline deadline, Stream stream = Stream::Either);
  /// Number of occurrences of `needle` in the stream right now.
  size_t count_output(const std::string& needle, Stream stream = Stream::Out) const;

  /// Waits for the exit: the exit code, 128+N when killed by signal N,
  /// or nullopt if it is still running at the deadline.
  std::optional<int> wait_exit(Deadline deadline);
  /// Not exited yet (reaps it if it has).
  bool running();
  /// Sends `sig` to the process (not its group). No-op once it has exited.
  void kill(int sig);
  /// Writes to its stdin (Options::stdin_pipe). Throws if the pipe is closed.
  void write_stdin(const std::string& text);
  void close_stdin();

  /// "out:\n…\nerr:\n…" for failure messages.
  std::string describe() const;

 private:
  void spawn();
  bool output_matches(const std::function<bool(const std::string&)>& match, Stream stream) const;

  Options options_;
  std::optional<TempDir> own_logs_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::optional<int> exit_code_;
  std::string out_path_, err_path_;
};

/// The server kind the integration tests run against: $XIOT_TEST_SERVER
/// ("prosody" or "ejabberd"), "prosody" when unset. Tests that cannot pass on
/// one kind skip with GTEST_SKIP() and the reason (see docs/servers.md).
std::string test_server_kind();
/// test_server_kind() == "ejabberd"
bool testing_ejabberd();

/// A real XMPP server on 127.0.0.1 started by tools/devserver in a fresh temp
/// dir: Prosody, or ejabberd (one node or a cluster of nodes).
/// Accounts (default): dev1, admin, ops, viewer, stranger with random passwords;
/// the pubsub service pubsub.localhost lets dev* and admin publish.
class DevServer {
 public:
  struct Options {
    /// "user:pw,user:pw"; "" = the defaults above.
    std::string accounts;
    /// The server presents a certificate from the unrelated rogue CA.
    bool serve_rogue_cert = false;
    /// The server's log level (log_path()): debug, info, warn, error.
    std::string log_level = "info";
    /// "prosody" or "ejabberd"; "" = test_server_kind().
    std::string server;
    /// ejabberd only: this many nodes joined into one cluster (1-4).
    int nodes = 1;
    /// Prosody only: c2s also listens on this IPv4 address (a NetNs's
    /// host_ip(), so an agent inside that namespace can reach the server).
    std::string also_listen;
    /// Client certificates (tools/devserver --client-ca): a CA certificate
    /// file (xiotctl ca init); the server then offers SASL EXTERNAL too.
    std::string client_ca;
  };
  /// One node of the server (Prosody is one node; names like xiot1@127.0.0.1
  /// for ejabberd). Node 0 is the one port()/direct_tls_port() name.
  struct Node {
    std::string name;
    int port = 0;             ///< c2s (STARTTLS)
    int direct_tls_port = 0;  ///< XEP-0368
    std::string log;          ///< its log file
  };
  DevServer();
  explicit DevServer(Options options);
  /// Stops Prosody (bounded) and removes the directory (kept on failure).
  ~DevServer();
  DevServer(const DevServer&) = delete;
  DevServer& operator=(const DevServer&) = delete;

  const std::string& dir() const { return dir_.path(); }
  const std::string& host() const { return host_; }  ///< "127.0.0.1"
  int port() const { return port_; }                  ///< c2s (STARTTLS)
  int direct_tls_port() const { return direct_tls_port_; }  ///< XEP-0368
  const std::string& domain() const { return domain_; }     ///< "localhost"
  const std::string& pubsub_service() const { return pubsub_; }  ///< "pubsub.localhost"
  /// XEP-0363 upload service ("upload.localhost") and its HTTPS port (devserver's file sharing).
  const std::string& upload_service() const { return upload_; }
  int https_port() const { return https_port_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& rogue_ca_file() const { return rogue_ca_file_; }
  std::string env_json() const { return dir() + "/env.json"; }
  /// Node 0's log (logs/prosody.log or logs/ejabberd.log).
  const std::string& log_path() const { return log_path_; }
  /// "prosody" or "ejabberd"
  const std::string& kind() const { return kind_; }
  bool is_ejabberd() const { return kind_ == "ejabberd"; }
  const std::vector<Node>& nodes() const { return nodes_; }

  /// "dev1" -> "dev1@localhost"
  std::string jid(const std::string& user) const { return user + "@" + domain_; }
  /// Password of an account; throws std::out_of_range for an unknown one.
  const std::string& password(const std::string& user) const { return accounts_.at(user); }
  const std::map<std::string, std::string>& accounts() const { return accounts_; }

  /// Stops and starts the same server (same port, data, certificates).
  /// Returns when it listens again. Throws std::runtime_error on failure.
  void restart();
  /// Stops it (bounded: SIGTERM, then SIGKILL). Idempotent.
  void stop();
  /// Stops it like stop() but keeps its ports reserved, so that no server
  /// of a test running in parallel takes them before start_again().
  void stop_keeping_ports();
  /// Starts it again after stop(), like restart().
  void start_again();
  bool running() const;
  /// Registers (or re-keys) an account.
  void add_account(const std::string& user, const std::string& password);
  /// ejabberd only: runs the ejabberdctl command `args` on node `node` and
  /// returns what it printed. Throws std::runtime_error when it fails (or on
  /// Prosody).
  std::string ctl(const std::vector<std::string>& args, size_t node = 0) const;
  /// The last `lines` lines of every node's log, for failure messages.
  std::string log_tail(size_t lines = 40) const;

 private:
  void devserver(const std::vector<std::string>& args, std::chrono::seconds limit);
  void load_env();

  Options options_;
  std::string kind_;
  TempDir dir_;
  std::string host_, domain_, pubsub_, ca_file_, rogue_ca_file_, log_path_;
  std::string upload_;
  int https_port_ = 0;
  std::vector<Node> nodes_;
  int port_ = 0;
  int direct_tls_port_ = 0;
  std::map<std::string, std::string> accounts_;
  bool started_ = false;
};

/// What write_agent_config() puts into the agent's config (DESIGN.md
/// "Agent configuration"). Defaults: dev1 on the server, the sim board,
/// telemetry every 1 s to PEP, ACL owners admin, operators ops, viewers *@domain.
struct AgentConfig {
  std::string account = "dev1";
  std::string resource = "xiot";
  std::string tls = "required";       ///< or "direct" (then the direct-TLS port is used)
  bool use_rogue_ca = false;          ///< trust only the rogue CA (must fail)
  std::string board;                  ///< "" = <source>/boards/sim/board.json
  double interval_s = 1;
  std::string service = "pep";
  std::string node = "urn:xiot:telemetry:0";
  int batch_max = 1;
  /// telemetry.batch_window_s. 0 here (the agent's default is 1 s): the tests
  /// count one item per reading at their fast intervals unless they ask.
  double batch_window_s = 0;
  std::string encoding = "senml-xml";
  int ping_interval_s = 30;
  std::vector<std::string> owners;     ///< default {admin@domain}
  std::vector<std::string> operators;  ///< default {ops@domain}
  std::vector<std::string> viewers;    ///< default {*@domain}
  std::string journal_path = "state/journal";
  std::string log_level = "debug";
  /// The server node (of a cluster) the agent logs in to: a DevServer::nodes() index.
  size_t server_node = 0;
  /// Applied last, merged into the generated JSON: objects merge key by key, a
  /// key set to null is removed, anything else replaces, e.g.
  /// R"({"telemetry":{"interval_s":0.05}, "journal":null})".
  std::string override_json;
};

/// Writes the agent's JSON config to `path` (parent directories created) and
/// returns `path`. The password is written inline.
std::string write_agent_config(const DevServer& server, const std::string& path,
                               const AgentConfig& config = AgentConfig());

/// Writes an xiotctl config (ops.json) for `account`, connecting to cluster
/// node `node`, and returns `path`.
std::string write_ops_config(const DevServer& server, const std::string& path,
                             const std::string& account = "ops", size_t node = 0);

/// argv for fake_device.py (a slixmpp stand-in device; see its docstring)
/// logging in as `account`.
std::vector<std::string> fake_device_argv(const DevServer& server, const std::string& account = "dev1");

/// Reads a whole file ("" if it cannot be read).
std::string read_file(const std::string& path);

/// Runs tests/integration/probe/xmpp_commander.py as `user` of `server` against
/// `device` (a full JID) with `steps` (a JSON array text, written to a file in
/// the server's dir); expects exit 0 (a gtest failure otherwise) and returns
/// the step documents of its stdout (JSON lines with a numeric "step"), in order.
std::vector<std::shared_ptr<cJSON>> run_commander(const DevServer& server, const std::string& user,
                                                  const std::string& device, const std::string& steps);

}  // namespace xiot::test
