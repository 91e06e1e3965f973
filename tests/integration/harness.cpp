#include "harness.hpp"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "boards/board.hpp"
#include "hal/sim/manual_clock.hpp"

extern char** environ;

namespace xiot::test {
namespace {

namespace fs = std::filesystem;

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// The running test failed (or, outside a test, a suite-level failure happened).
bool current_test_failed() {
  return ::testing::Test::HasFailure() || ::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
}

std::string tail_lines(const std::string& text, size_t lines) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;  // the final newline ends the last line
  for (size_t n = 0; n < lines; ++n) {
    if (pos == 0) return text;
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

JsonPtr json(cJSON* j) { return JsonPtr(j, &cJSON_Delete); }

cJSON* string_array(const std::vector<std::string>& v) {
  cJSON* a = cJSON_CreateArray();
  for (const auto& s : v) cJSON_AddItemToArray(a, cJSON_CreateString(s.c_str()));
  return a;
}

// Deep merge: objects merge key by key, null removes a key, anything else replaces.
void merge_json(cJSON* into, const cJSON* from) {
  for (const cJSON* item = from->child; item != nullptr; item = item->next) {
    cJSON* existing = cJSON_GetObjectItemCaseSensitive(into, item->string);
    if (cJSON_IsObject(item) && cJSON_IsObject(existing)) {
      merge_json(existing, item);
      continue;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(into, item->string);
    if (!cJSON_IsNull(item)) cJSON_AddItemToObject(into, item->string, cJSON_Duplicate(item, 1));
  }
}

void write_json(const std::string& path, cJSON* root) {
  fs::create_directories(fs::path(path).parent_path());
  char* text = cJSON_Print(root);
  std::ofstream out(path, std::ios::trunc);
  out << text << "\n";
  cJSON_free(text);
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

bool wait_until(const std::function<bool()>& predicate, Deadline deadline, std::chrono::milliseconds poll) {
  for (;;) {
    if (predicate()) return true;
    const auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(poll, deadline - now));
  }
}

std::string source_path(const std::string& rel) {
  return env_or("XIOT_SOURCE_DIR", XIOT_TEST_SOURCE_DIR) + "/" + rel;
}

std::string binary_path(const std::string& rel) {
  return env_or("XIOT_BINARY_DIR", XIOT_TEST_BINARY_DIR) + "/" + rel;
}

size_t sim_board_channels() {
  hal::sim::ManualClock clock;
  std::string error;
  const auto board = boards::Board::open(source_path("boards/sim/board.json").c_str(), clock, clock, &error);
  if (!board) ADD_FAILURE() << "boards/sim/board.json: " << error;
  return board ? board->registry().channel_count() : 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// --- TempDir -------------------------------------------------------------------------

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = env_or("TMPDIR", "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  if (keep_ || std::getenv("XIOT_KEEP_TMP") != nullptr || current_test_failed()) {
    std::fprintf(stderr, "[harness] kept %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// --- Process ---------------------------------------------------------------------------

Process::Process(std::vector<std::string> argv) : Process(Options{std::move(argv), {}, "", "", false}) {}

Process::Process(Options options) : options_(std::move(options)) {
  static const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);  // a dead child's stdin must not kill the test
    return true;
  }();
  (void)sigpipe_ignored;
  if (options_.argv.empty()) throw std::invalid_argument("Process: empty argv");
  spawn();
}

void Process::spawn() {
  static std::atomic<int> counter{0};
  std::string dir = options_.log_dir;
  if (dir.empty()) {
    own_logs_.emplace("xiot-proc");
    dir = own_logs_->path();
  }
  fs::create_directories(dir);
  const std::string base = fs::path(options_.argv[0]).filename().string() + "." + std::to_string(++counter);
  out_path_ = dir + "/" + base + ".out";
  err_path_ = dir + "/" + base + ".err";

  // Everything the child needs is prepared before fork(): no allocation after it.
  std::vector<char*> argv;
  for (auto& a : options_.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    if (options_.env.count(key) == 0) env_strings.push_back(kv);
  }
  for (const auto& kv : options_.env) env_strings.push_back(kv.first + "=" + kv.second);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  const int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int in_pipe[2] = {-1, -1};
  int in_fd = -1;
  if (options_.stdin_pipe) {
    if (pipe2(in_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    in_fd = in_pipe[0];
  } else {
    in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  if (out_fd < 0 || err_fd < 0 || in_fd < 0) throw std::runtime_error("Process: cannot open log files in " + dir);
  const char* cwd = options_.cwd.empty() ? nullptr : options_.cwd.c_str();

  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    signal(SIGPIPE, SIG_DFL);
    if (cwd != nullptr && chdir(cwd) != 0) {
      dprintf(2, "harness: chdir %s: %s\n", cwd, std::strerror(errno));
      _exit(127);
    }
    execvpe(argv[0], argv.data(), envp.data());
    dprintf(2, "harness: exec %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent: no race with kill(-pid)
  pid_ = pid;
  ::close(out_fd);
  ::close(err_fd);
  ::close(in_fd);
  if (options_.stdin_pipe) stdin_fd_ = in_pipe[1];
}

Process::~Process() {
  close_stdin();
  if (pid_ > 0 && !exit_code_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

std::string Process::out() const { return read_file(out_path_); }
std::string Process::err() const { return read_file(err_path_); }

bool Process::output_matches(const std::function<bool(const std::string&)>& match, Stream stream) const {
  if ((stream == Stream::Out || stream == Stream::Either) && match(out())) return true;
  if ((stream == Stream::Err || stream == Stream::Either) && match(err())) return true;
  return false;
}

bool Process::wait_for_output(const std::string& needle, Deadline deadline, Stream stream) {
  auto match = [&](const std::string& text) { return text.find(needle) != std::string::npos; };
  return wait_until([&] { return output_matches(match, stream) || !running(); }, deadline) &&
         output_matches(match, stream);
}

bool Process::wait_for_output(const std::regex& re, Deadline deadline, Stream stream) {
  auto match = [&](const std::string& text) { return std::regex_search(text, re); };
  return wait_until([&] { return output_matches(match, stream) || !running(); }, deadline) &&
         output_matches(match, stream);
}

size_t Process::count_output(const std::string& needle, Stream stream) const {
  auto count_in = [&](const std::string& text) {
    size_t n = 0;
    for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
    return n;
  };
  size_t n = 0;
  if (stream == Stream::Out || stream == Stream::Either) n += count_in(out());
  if (stream == Stream::Err || stream == Stream::Either) n += count_in(err());
  return n;
}

bool Process::running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    exit_code_ = -1;  // not our child any more (should not happen)
  }
  return false;
}

std::optional<int> Process::wait_exit(Deadline deadline) {
  if (wait_until([&] { return !running(); }, deadline)) return exit_code_;
  return std::nullopt;
}

void Process::kill(int sig) {
  if (running()) ::kill(pid_, sig);
}

void Process::write_stdin(const std::string& text) {
  if (stdin_fd_ < 0) throw std::logic_error("Process: stdin is not a pipe (Options::stdin_pipe)");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(stdin_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("Process: write to stdin: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

void Process::close_stdin() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
}

std::string Process::describe() const {
  std::string s = options_.argv[0];
  if (exit_code_) s += " (exited " + std::to_string(*exit_code_) + ")";
  s += "\n--- stdout (" + out_path_ + ") ---\n" + tail_lines(out(), 40);
  s += "\n--- stderr (" + err_path_ + ") ---\n" + tail_lines(err(), 40);
  return s;
}

// --- DevServer ---------------------------------------------------------------------------------

std::string test_server_kind() {
  const std::string kind = env_or("XIOT_TEST_SERVER", "prosody");
  if (kind != "prosody" && kind != "ejabberd") {
    throw std::invalid_argument("XIOT_TEST_SERVER must be prosody or ejabberd, not '" + kind + "'");
  }
  return kind;
}

bool testing_ejabberd() { return test_server_kind() == "ejabberd"; }

namespace {
std::string kind_of(const DevServer::Options& o) { return o.server.empty() ? test_server_kind() : o.server; }
}  // namespace

DevServer::DevServer() : DevServer(Options()) {}

DevServer::DevServer(Options options)
    : options_(std::move(options)), kind_(kind_of(options_)), dir_("xiot-" + kind_) {
  std::vector<std::string> args = {"start", dir(), "--server", kind_, "--owner-pid", std::to_string(getpid()),
                                   "--log-level", options_.log_level};
  if (options_.nodes != 1) {
    args.push_back("--nodes");
    args.push_back(std::to_string(options_.nodes));
  }
  if (!options_.accounts.empty()) {
    args.push_back("--accounts");
    args.push_back(options_.accounts);
  }
  if (options_.serve_rogue_cert) args.push_back("--serve-rogue-cert");
  if (!options_.also_listen.empty()) {
    args.push_back("--also-listen");
    args.push_back(options_.also_listen);
  }
  if (!options_.client_ca.empty()) {
    args.push_back("--client-ca");
    args.push_back(options_.client_ca);
  }
  devserver(args, std::chrono::seconds(60));
  started_ = true;
  load_env();
}

DevServer::~DevServer() {
  if (!started_) return;
  try {
    stop();
  } catch (const std::exception& e) {
    // Its state stays, so the owner watcher's `stop` can still find it.
    std::fprintf(stderr, "[harness] stopping the dev server failed: %s\n", e.what());
    dir_.keep();
  }
}

void DevServer::devserver(const std::vector<std::string>& args, std::chrono::seconds limit) {
  std::vector<std::string> argv = {source_path("tools/devserver")};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(Process::Options{argv, {}, "", dir() + "/logs/harness", false});
  const auto code = p.wait_exit(in(limit));
  if (!code || *code != 0) {
    throw std::runtime_error("tools/devserver " + args[0] + " failed: " + p.describe());
  }
}

void DevServer::load_env() {
  const std::string text = read_file(env_json());
  auto root = json(cJSON_Parse(text.c_str()));
  if (!root) throw std::runtime_error("cannot parse " + env_json());
  auto str = [&](const char* key) {
    const cJSON* j = cJSON_GetObjectItemCaseSensitive(root.get(), key);
    if (!cJSON_IsString(j)) throw std::runtime_error(env_json() + ": no string '" + key + "'");
    return std::string(j->valuestring);
  };
  auto num = [&](const char* key) {
    const cJSON* j = cJSON_GetObjectItemCaseSensitive(root.get(), key);
    if (!cJSON_IsNumber(j)) throw std::runtime_error(env_json() + ": no number '" + key + "'");
    return j->valueint;
  };
  host_ = str("host");
  log_path_ = str("log");
  domain_ = str("domain");
  pubsub_ = str("pubsub_service");
  ca_file_ = str("ca_file");
  rogue_ca_file_ = str("rogue_ca_file");
  port_ = num("port");
  direct_tls_port_ = num("direct_tls_port");
  {
    const cJSON* u = cJSON_GetObjectItemCaseSensitive(root.get(), "upload_service");
    const cJSON* h = cJSON_GetObjectItemCaseSensitive(root.get(), "https_port");
    upload_ = cJSON_IsString(u) ? u->valuestring : "";
    https_port_ = cJSON_IsNumber(h) ? h->valueint : 0;
  }
  nodes_.clear();
  const cJSON* nodes = cJSON_GetObjectItemCaseSensitive(root.get(), "nodes");
  for (const cJSON* n = nodes != nullptr ? nodes->child : nullptr; n != nullptr; n = n->next) {
    Node node;
    const cJSON* name = cJSON_GetObjectItemCaseSensitive(n, "name");
    const cJSON* port = cJSON_GetObjectItemCaseSensitive(n, "port");
    const cJSON* dport = cJSON_GetObjectItemCaseSensitive(n, "direct_tls_port");
    const cJSON* log = cJSON_GetObjectItemCaseSensitive(n, "log");
    if (!cJSON_IsString(name) || !cJSON_IsNumber(port) || !cJSON_IsNumber(dport) || !cJSON_IsString(log)) {
      throw std::runtime_error(env_json() + ": malformed entry in 'nodes'");
    }
    node.name = name->valuestring;
    node.port = port->valueint;
    node.direct_tls_port = dport->valueint;
    node.log = log->valuestring;
    nodes_.push_back(node);
  }
  if (nodes_.empty()) nodes_.push_back(Node{kind_, port_, direct_tls_port_, log_path_});
  accounts_.clear();
  const cJSON* accts = cJSON_GetObjectItemCaseSensitive(root.get(), "accounts");
  for (const cJSON* a = accts != nullptr ? accts->child : nullptr; a != nullptr; a = a->next) {
    const cJSON* pw = cJSON_GetObjectItemCaseSensitive(a, "password");
    if (a->string != nullptr && cJSON_IsString(pw)) accounts_[a->string] = pw->valuestring;
  }
}

void DevServer::restart() {
  devserver({"restart", dir()}, std::chrono::seconds(30));
  load_env();
}

void DevServer::stop() {
  if (!started_) return;
  devserver({"stop", dir()}, std::chrono::seconds(30));
}

void DevServer::stop_keeping_ports() {
  if (!started_) return;
  devserver({"stop", dir(), "--keep-ports"}, std::chrono::seconds(30));
}

void DevServer::start_again() { restart(); }

bool DevServer::running() const {
  std::vector<std::string> argv = {source_path("tools/devserver"), "status", dir()};
  Process p(Process::Options{argv, {}, "", dir() + "/logs/harness", false});
  const auto code = p.wait_exit(in(std::chrono::seconds(10)));
  return code && *code == 0;
}

void DevServer::add_account(const std::string& user, const std::string& pw) {
  devserver({"add-account", dir(), user, pw}, std::chrono::seconds(30));
  load_env();
}

std::string DevServer::ctl(const std::vector<std::string>& args, size_t node) const {
  if (!is_ejabberd()) throw std::runtime_error("DevServer::ctl: only for ejabberd (this is " + kind_ + ")");
  std::vector<std::string> argv = {source_path("tools/devserver"), "ctl", dir(), "--node", std::to_string(node + 1)};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(Process::Options{argv, {}, "", dir() + "/logs/harness", false});
  const auto code = p.wait_exit(in(std::chrono::seconds(120)));
  if (!code || *code != 0) {
    throw std::runtime_error("tools/devserver ctl " + (args.empty() ? std::string() : args[0]) + " failed: " +
                             p.describe());
  }
  return p.out();
}

std::string DevServer::log_tail(size_t lines) const {
  std::string out;
  for (const Node& n : nodes_) {
    out += "--- " + n.log + " ---\n" + tail_lines(read_file(n.log), lines);
  }
  return out;
}

// --- config writers --------------------------------------------------------------------------------

std::string write_agent_config(const DevServer& server, const std::string& path, const AgentConfig& c) {
  auto root = json(cJSON_CreateObject());
  cJSON* xmpp = cJSON_AddObjectToObject(root.get(), "xmpp");
  cJSON_AddStringToObject(xmpp, "jid", server.jid(c.account).c_str());
  cJSON_AddStringToObject(xmpp, "password", server.password(c.account).c_str());
  cJSON_AddStringToObject(xmpp, "resource", c.resource.c_str());
  cJSON_AddStringToObject(xmpp, "host", server.host().c_str());
  const DevServer::Node& node = server.nodes().at(c.server_node);
  cJSON_AddNumberToObject(xmpp, "port", c.tls == "direct" ? node.direct_tls_port : node.port);
  cJSON_AddStringToObject(xmpp, "tls", c.tls.c_str());
  cJSON_AddStringToObject(xmpp, "ca_file", (c.use_rogue_ca ? server.rogue_ca_file() : server.ca_file()).c_str());
  cJSON_AddNumberToObject(xmpp, "ping_interval_s", c.ping_interval_s);

  const std::string board = c.board.empty() ? source_path("boards/sim/board.json") : c.board;
  cJSON_AddStringToObject(root.get(), "board", board.c_str());

  cJSON* tel = cJSON_AddObjectToObject(root.get(), "telemetry");
  cJSON_AddNumberToObject(tel, "interval_s", c.interval_s);
  cJSON_AddStringToObject(tel, "service", c.service.c_str());
  cJSON_AddStringToObject(tel, "node", c.node.c_str());
  cJSON_AddNumberToObject(tel, "batch_max", c.batch_max);
  cJSON_AddNumberToObject(tel, "batch_window_s", c.batch_window_s);
  cJSON_AddStringToObject(tel, "encoding", c.encoding.c_str());

  const std::string any = "*@" + server.domain();
  cJSON* acl = cJSON_AddObjectToObject(root.get(), "acl");
  cJSON_AddItemToObject(acl, "owners",
                        string_array(c.owners.empty() ? std::vector<std::string>{server.jid("admin")} : c.owners));
  cJSON_AddItemToObject(acl, "operators",
                        string_array(c.operators.empty() ? std::vector<std::string>{server.jid("ops")} : c.operators));
  cJSON_AddItemToObject(acl, "viewers", string_array(c.viewers.empty() ? std::vector<std::string>{any} : c.viewers));

  cJSON* journal = cJSON_AddObjectToObject(root.get(), "journal");
  cJSON_AddStringToObject(journal, "path", c.journal_path.c_str());
  cJSON_AddNumberToObject(journal, "max_bytes", 1048576);
  cJSON* log = cJSON_AddObjectToObject(root.get(), "log");
  cJSON_AddStringToObject(log, "level", c.log_level.c_str());

  if (!c.override_json.empty()) {
    auto over = json(cJSON_Parse(c.override_json.c_str()));
    if (!over || !cJSON_IsObject(over.get())) throw std::invalid_argument("override_json is not a JSON object");
    merge_json(root.get(), over.get());
  }
  write_json(path, root.get());
  return path;
}

std::string write_ops_config(const DevServer& server, const std::string& path, const std::string& account,
                             size_t node) {
  auto root = json(cJSON_CreateObject());
  cJSON_AddStringToObject(root.get(), "jid", server.jid(account).c_str());
  cJSON_AddStringToObject(root.get(), "password", server.password(account).c_str());
  cJSON_AddStringToObject(root.get(), "host", server.host().c_str());
  cJSON_AddNumberToObject(root.get(), "port", server.nodes().at(node).port);
  cJSON_AddStringToObject(root.get(), "ca_file", server.ca_file().c_str());
  write_json(path, root.get());
  return path;
}

std::vector<std::string> fake_device_argv(const DevServer& server, const std::string& account) {
  return {"/usr/bin/python3", source_path("tests/integration/fake_device.py"), "--env", server.env_json(),
          "--account", account};
}

std::vector<std::shared_ptr<cJSON>> run_commander(const DevServer& server, const std::string& user,
                                                  const std::string& device, const std::string& steps) {
  static std::atomic<int> scripts{0};
  const std::string path = server.dir() + "/commander-steps-" + std::to_string(++scripts) + ".json";
  std::ofstream(path) << steps;
  Process p({"/usr/bin/python3", source_path("tests/integration/probe/xmpp_commander.py"), "--jid", server.jid(user),
             "--password", server.password(user), "--host", server.host(), "--port", std::to_string(server.port()),
             "--ca-file", server.ca_file(), "--device", device, "--steps", path});
  EXPECT_EQ(p.wait_exit(in(std::chrono::seconds(120))), std::optional<int>(0)) << p.describe();
  std::vector<std::shared_ptr<cJSON>> out;
  const std::string text = p.out();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::shared_ptr<cJSON> d(cJSON_Parse(text.substr(start, end - start).c_str()), cJSON_Delete);
    if (d && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d.get(), "step"))) out.push_back(d);
    start = end + 1;
  }
  return out;
}

}  // namespace xiot::test
