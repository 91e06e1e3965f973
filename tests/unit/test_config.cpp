// agent/config: every key and rule of DESIGN.md "Agent configuration", each
// error message checked exactly.
#include "agent/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "xiot-config-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = fs::canonical(made).string();
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string write(const std::string& rel, const std::string& content) const {
    const fs::path p = fs::path(path_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::string path_;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

/// A minimal valid config with `xmpp_extra` appended inside "xmpp" and
/// `top_extra` appended at the top level.
std::string cfg(const std::string& xmpp_extra = "", const std::string& top_extra = "") {
  return R"({"xmpp": {"jid": "dev1@localhost", "password": "secret")" + xmpp_extra +
         R"(}, "board": "board.json")" + top_extra + "}";
}

/// A config with the given "xmpp" object body (no password added).
std::string xmpp_only(const std::string& xmpp_body) {
  return R"({"xmpp": {)" + xmpp_body + R"(}, "board": "board.json"})";
}

struct ErrorCase {
  const char* name;
  std::string json;
  std::string expected;  // {F} = the config path as given, {D} = its directory
};

/// An EC P-256 public key (update.public_keys fixtures).
const char* const kUpdatePub =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8qzweJ01TAK4mWfcux8tMvloydDV\n"
    "bVsaklYx4G7olrrfkAaYLmPUkV2NVnRt87vhsI90vf3u6i5DQZhMlpIfWQ==\n"
    "-----END PUBLIC KEY-----\n";

std::string many_rules(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string(i == 0 ? "" : ",") + R"({"channel": "env0.temperature", "above": 1})";
  return s;
}

std::vector<ErrorCase> error_cases() {
  const std::string long_local(1024, 'a');
  const std::string long_domain(1024, 'd');
  const std::string kCreds = "exactly one of password, password_file, or client_cert with client_key";
  return {
      // -- the file itself
      {"empty_file", "  \n", "{F}: empty file; expected a JSON object"},
      {"malformed_trailing_comma_inline", R"({"xmpp": {"jid": "a@b",}})",
       "{F}:1:25: malformed JSON near \"}\""},
      {"malformed_missing_comma", "{\n  \"xmpp\": {\n    \"jid\": \"dev1@localhost\"\n    \"password\": \"x\"\n  }\n}",
       "{F}:4:5: malformed JSON near \"\\\"password\\\": \\\"x\\\"\""},
      {"malformed_truncated", "{\"xmpp\": {", "{F}:1:11: malformed JSON at end of file"},
      {"malformed_trailing_garbage", cfg() + " x", "{F}:1:82: malformed JSON near \"x\""},
      {"top_level_array", "[1, 2]", "{F}: expected a JSON object at the top level, got an array"},
      {"top_level_string", "\"hello\"", "{F}: expected a JSON object at the top level, got \"hello\""},
      {"unknown_top_key_suggestion", cfg("", R"(, "boards": 1)"),
       "{F}: boards: unknown key (did you mean \"board\"?)"},
      {"unknown_top_key_list", cfg("", R"(, "zzz": 1)"),
       "{F}: zzz: unknown key (expected one of: xmpp board telemetry acl journal log reboot update alerts)"},
      {"duplicate_top_key", cfg("", R"(, "board": "board.json")"), "{F}: board: duplicate key"},
      // -- xmpp
      {"xmpp_not_object", R"({"xmpp": [], "board": "board.json"})", "{F}: xmpp: expected an object, got an array"},
      {"xmpp_missing", R"({"board": "board.json"})",
       "{F}: xmpp.jid: missing; expected a bare JID like dev1@example.com"},
      {"jid_missing", xmpp_only(R"("password": "x")"),
       "{F}: xmpp.jid: missing; expected a bare JID like dev1@example.com"},
      {"jid_null", xmpp_only(R"("jid": null, "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got null"},
      {"jid_number", xmpp_only(R"("jid": 5, "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got 5"},
      {"jid_no_at", xmpp_only(R"("jid": "dev1", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"dev1\" (no '@')"},
      {"jid_resource", xmpp_only(R"("jid": "dev1@localhost/xiot", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"dev1@localhost/xiot\" (has a resource)"},
      {"jid_empty_local", xmpp_only(R"("jid": "@localhost", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"@localhost\" (empty local part)"},
      {"jid_empty_domain", xmpp_only(R"("jid": "dev1@", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"dev1@\" (empty domain)"},
      {"jid_empty", xmpp_only(R"("jid": "", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"\" (empty)"},
      {"jid_space", xmpp_only(R"("jid": "dev 1@localhost", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"dev 1@localhost\" (contains whitespace "
       "or control characters)"},
      {"jid_control", xmpp_only(R"("jid": "dev1@local\u0001host", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"dev1@local\\u0001host\" (contains "
       "whitespace or control characters)"},
      {"jid_local_forbidden", xmpp_only(R"("jid": "a:b@localhost", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"a:b@localhost\" (local part contains "
       "one of \"&'/:<>@)"},
      {"jid_two_ats", xmpp_only(R"("jid": "a@b@c", "password": "x")"),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"a@b@c\" (domain contains one of "
       "\"&'<>@/)"},
      {"jid_long_local", xmpp_only("\"jid\": \"" + long_local + "@localhost\", \"password\": \"x\""),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"" + std::string(64, 'a') +
           "...\" (local part longer than 1023 bytes)"},
      {"jid_long_domain", xmpp_only("\"jid\": \"a@" + long_domain + "\", \"password\": \"x\""),
       "{F}: xmpp.jid: expected a bare JID like dev1@example.com, got \"a@" + std::string(62, 'd') +
           "...\" (domain longer than 1023 bytes)"},
      {"xmpp_unknown_key", cfg(R"(, "passwrd": "x")"), "{F}: xmpp.passwrd: unknown key (did you mean \"password\"?)"},
      {"xmpp_unknown_key_case", cfg(R"(, "JID": "x")"), "{F}: xmpp.JID: unknown key (did you mean \"jid\"?)"},
      {"xmpp_duplicate_key", cfg(R"(, "password": "again")"), "{F}: xmpp.password: duplicate key"},
      // -- credentials
      {"password_number_not_echoed", xmpp_only(R"("jid": "dev1@localhost", "password": 123456)"),
       "{F}: xmpp.password: expected a non-empty string, got a number"},
      {"password_empty", xmpp_only(R"("jid": "dev1@localhost", "password": "")"),
       "{F}: xmpp.password: expected a non-empty string, got \"\""},
      {"no_credential", xmpp_only(R"("jid": "dev1@localhost")"),
       "{F}: xmpp: missing credential; expected " + kCreds},
      {"null_credential_is_absent", xmpp_only(R"("jid": "dev1@localhost", "password": null)"),
       "{F}: xmpp: missing credential; expected " + kCreds},
      {"password_and_file", cfg(R"(, "password_file": "pw.txt")"),
       "{F}: xmpp.password_file: expected " + kCreds + ", got both password and password_file"},
      {"password_and_cert", cfg(R"(, "client_cert": "c.crt", "client_key": "c.key")"),
       "{F}: xmpp.client_cert: expected " + kCreds + ", got both password and a client certificate"},
      {"password_file_and_key", xmpp_only(R"("jid": "dev1@localhost", "password_file": "pw.txt", "client_key": "c.key")"),
       "{F}: xmpp.client_key: expected " + kCreds + ", got both password_file and a client certificate"},
      {"cert_without_key", xmpp_only(R"("jid": "dev1@localhost", "client_cert": "c.crt")"),
       "{F}: xmpp.client_key: missing; client_cert needs client_key"},
      {"key_without_cert", xmpp_only(R"("jid": "dev1@localhost", "client_key": "c.key")"),
       "{F}: xmpp.client_cert: missing; client_key needs client_cert"},
      {"cert_unreadable", xmpp_only(R"("jid": "dev1@localhost", "client_cert": "nope.crt", "client_key": "c.key")"),
       "{F}: xmpp.client_cert: cannot read {D}/nope.crt: No such file or directory"},
      {"key_unreadable", xmpp_only(R"("jid": "dev1@localhost", "client_cert": "c.crt", "client_key": "nope.key")"),
       "{F}: xmpp.client_key: cannot read {D}/nope.key: No such file or directory"},
      {"cert_wrong_type", xmpp_only(R"("jid": "dev1@localhost", "client_cert": true, "client_key": "c.key")"),
       "{F}: xmpp.client_cert: expected a file path (non-empty string), got true"},
      {"password_file_missing", xmpp_only(R"("jid": "dev1@localhost", "password_file": "missing.pw")"),
       "{F}: xmpp.password_file: cannot read {D}/missing.pw: No such file or directory"},
      {"password_file_directory", xmpp_only(R"("jid": "dev1@localhost", "password_file": "sub")"),
       "{F}: xmpp.password_file: cannot read {D}/sub: Is a directory"},
      {"password_file_empty", xmpp_only(R"("jid": "dev1@localhost", "password_file": "empty.pw")"),
       "{F}: xmpp.password_file: {D}/empty.pw is empty; expected a file holding the password"},
      {"password_file_only_newline", xmpp_only(R"("jid": "dev1@localhost", "password_file": "newline.pw")"),
       "{F}: xmpp.password_file: {D}/newline.pw is empty; expected a file holding the password"},
      {"password_file_huge", xmpp_only(R"("jid": "dev1@localhost", "password_file": "huge.pw")"),
       "{F}: xmpp.password_file: {D}/huge.pw is larger than 1024 bytes; expected a file holding only the "
       "password"},
      {"password_file_wrong_type", xmpp_only(R"("jid": "dev1@localhost", "password_file": ["pw.txt"])"),
       "{F}: xmpp.password_file: expected a file path (non-empty string), got an array"},
      // -- connection
      {"resource_empty", cfg(R"(, "resource": "")"),
       "{F}: xmpp.resource: expected a resource (1 to 1023 bytes, no control characters), got \"\""},
      {"resource_control", cfg(R"(, "resource": "a\nb")"),
       "{F}: xmpp.resource: expected a resource (1 to 1023 bytes, no control characters), got \"a\\u000ab\""},
      {"host_empty", cfg(R"(, "host": "")"), "{F}: xmpp.host: expected a host name or IP address, got \"\""},
      {"host_space", cfg(R"(, "host": "my host")"),
       "{F}: xmpp.host: expected a host name or IP address, got \"my host\" (contains whitespace or control "
       "characters)"},
      {"host_number", cfg(R"(, "host": 127)"), "{F}: xmpp.host: expected a host name or IP address, got 127"},
      {"port_zero", cfg(R"(, "port": 0)"), "{F}: xmpp.port: expected an integer from 1 to 65535, got 0"},
      {"port_too_big", cfg(R"(, "port": 65536)"), "{F}: xmpp.port: expected an integer from 1 to 65535, got 65536"},
      {"port_fraction", cfg(R"(, "port": 5222.5)"),
       "{F}: xmpp.port: expected an integer from 1 to 65535, got 5222.5"},
      {"port_string", cfg(R"(, "port": "5222")"),
       "{F}: xmpp.port: expected an integer from 1 to 65535, got \"5222\""},
      {"port_huge", cfg(R"(, "port": 1e400)"), "{F}: xmpp.port: expected an integer from 1 to 65535, got inf"},
      {"tls_bad", cfg(R"(, "tls": "none")"), "{F}: xmpp.tls: expected \"required\" or \"direct\", got \"none\""},
      {"tls_bool", cfg(R"(, "tls": true)"), "{F}: xmpp.tls: expected \"required\" or \"direct\", got true"},
      {"ca_file_missing", cfg(R"(, "ca_file": "certs/missing.crt")"),
       "{F}: xmpp.ca_file: cannot read {D}/certs/missing.crt: No such file or directory"},
      {"ca_file_absolute_missing", cfg(R"(, "ca_file": "/nonexistent/ca.crt")"),
       "{F}: xmpp.ca_file: cannot read /nonexistent/ca.crt: No such file or directory"},
      {"ca_file_number", cfg(R"(, "ca_file": 5)"),
       "{F}: xmpp.ca_file: expected a file path (non-empty string), got 5"},
      {"ca_file_empty", cfg(R"(, "ca_file": "")"),
       "{F}: xmpp.ca_file: expected a file path (non-empty string), got \"\""},
      {"cert_warn_days_low", cfg(R"(, "cert_warn_days": 0)"),
       "{F}: xmpp.cert_warn_days: expected an integer from 1 to 3650, got 0"},
      {"cert_warn_days_text", cfg(R"(, "cert_warn_days": "30")"),
       "{F}: xmpp.cert_warn_days: expected an integer from 1 to 3650, got \"30\""},
      {"ping_low", cfg(R"(, "ping_interval_s": 4)"),
       "{F}: xmpp.ping_interval_s: expected an integer from 5 to 3600, got 4"},
      {"ping_high", cfg(R"(, "ping_interval_s": 3601)"),
       "{F}: xmpp.ping_interval_s: expected an integer from 5 to 3600, got 3601"},
      {"ping_fraction", cfg(R"(, "ping_interval_s": 30.5)"),
       "{F}: xmpp.ping_interval_s: expected an integer from 5 to 3600, got 30.5"},
      {"reconnect_base_low", cfg(R"(, "reconnect_base_s": 0.05)"),
       "{F}: xmpp.reconnect_base_s: expected a number from 0.1 to 3600, got 0.05"},
      {"reconnect_base_high", cfg(R"(, "reconnect_base_s": 3600.5)"),
       "{F}: xmpp.reconnect_base_s: expected a number from 0.1 to 3600, got 3600.5"},
      {"reconnect_cap_below_base", cfg(R"(, "reconnect_cap_s": 0.5)"),
       "{F}: xmpp.reconnect_cap_s: expected a number from 1 (xmpp.reconnect_base_s) to 86400, got 0.5"},
      {"reconnect_cap_below_custom_base", cfg(R"(, "reconnect_base_s": 2.5, "reconnect_cap_s": 2)"),
       "{F}: xmpp.reconnect_cap_s: expected a number from 2.5 (xmpp.reconnect_base_s) to 86400, got 2"},
      {"reconnect_cap_high", cfg(R"(, "reconnect_cap_s": 86401)"),
       "{F}: xmpp.reconnect_cap_s: expected a number from 1 (xmpp.reconnect_base_s) to 86400, got 86401"},
      // -- board
      {"board_missing", R"({"xmpp": {"jid": "dev1@localhost", "password": "x"}})",
       "{F}: board: missing; expected the path of a board file (boards/<name>/board.json)"},
      {"board_null", R"({"xmpp": {"jid": "dev1@localhost", "password": "x"}, "board": null})",
       "{F}: board: expected a file path (non-empty string), got null"},
      {"board_object", R"({"xmpp": {"jid": "dev1@localhost", "password": "x"}, "board": {}})",
       "{F}: board: expected a file path (non-empty string), got an object"},
      {"board_unreadable", R"({"xmpp": {"jid": "dev1@localhost", "password": "x"}, "board": "../nope/board.json"})",
       "{F}: board: cannot read " + std::string("{P}") + "/nope/board.json: No such file or directory"},
      {"board_directory", R"({"xmpp": {"jid": "dev1@localhost", "password": "x"}, "board": "sub"})",
       "{F}: board: cannot read {D}/sub: Is a directory"},
      // -- telemetry
      {"telemetry_not_object", cfg("", R"(, "telemetry": 5)"), "{F}: telemetry: expected an object, got 5"},
      {"interval_zero", cfg("", R"(, "telemetry": {"interval_s": 0})"),
       "{F}: telemetry.interval_s: expected a number from 0.05 to 86400, got 0"},
      {"interval_just_below", cfg("", R"(, "telemetry": {"interval_s": 0.049})"),
       "{F}: telemetry.interval_s: expected a number from 0.05 to 86400, got 0.049"},
      {"interval_high", cfg("", R"(, "telemetry": {"interval_s": 86400.5})"),
       "{F}: telemetry.interval_s: expected a number from 0.05 to 86400, got 86400.5"},
      {"interval_string", cfg("", R"(, "telemetry": {"interval_s": "10"})"),
       "{F}: telemetry.interval_s: expected a number from 0.05 to 86400, got \"10\""},
      {"interval_negative", cfg("", R"(, "telemetry": {"interval_s": -1})"),
       "{F}: telemetry.interval_s: expected a number from 0.05 to 86400, got -1"},
      {"sample_low", cfg("", R"(, "telemetry": {"sample_s": 0.01})"),
       "{F}: telemetry.sample_s: expected a number from 0.05 to 86400, got 0.01"},
      {"sample_string", cfg("", R"(, "telemetry": {"sample_s": "1"})"),
       "{F}: telemetry.sample_s: expected a number from 0.05 to 86400, got \"1\""},
      {"batch_window_negative", cfg("", R"(, "telemetry": {"batch_window_s": -0.5})"),
       "{F}: telemetry.batch_window_s: expected a number from 0 to 60, got -0.5"},
      {"batch_window_high", cfg("", R"(, "telemetry": {"batch_window_s": 61})"),
       "{F}: telemetry.batch_window_s: expected a number from 0 to 60, got 61"},
      {"batch_window_string", cfg("", R"(, "telemetry": {"batch_window_s": "1"})"),
       "{F}: telemetry.batch_window_s: expected a number from 0 to 60, got \"1\""},
      {"batch_window_null", cfg("", R"(, "telemetry": {"batch_window_s": true})"),
       "{F}: telemetry.batch_window_s: expected a number from 0 to 60, got true"},
      {"telemetry_unknown_key", cfg("", R"(, "telemetry": {"interval": 10})"),
       "{F}: telemetry.interval: unknown key (did you mean \"interval_s\"?)"},
      {"service_jid", cfg("", R"(, "telemetry": {"service": "a@pubsub.localhost"})"),
       "{F}: telemetry.service: expected \"pep\" or a pubsub service domain like pubsub.example.com, got "
       "\"a@pubsub.localhost\" (domain contains one of \"&'<>@/)"},
      {"service_number", cfg("", R"(, "telemetry": {"service": 1})"),
       "{F}: telemetry.service: expected \"pep\" or a pubsub service domain like pubsub.example.com, got 1"},
      {"service_empty", cfg("", R"(, "telemetry": {"service": ""})"),
       "{F}: telemetry.service: expected \"pep\" or a pubsub service domain like pubsub.example.com, got \"\" "
       "(empty)"},
      {"node_empty", cfg("", R"(, "telemetry": {"node": ""})"),
       "{F}: telemetry.node: expected a node name (1 to 1023 bytes, no spaces or control characters), got \"\""},
      {"node_space", cfg("", R"(, "telemetry": {"node": "my node"})"),
       "{F}: telemetry.node: expected a node name (1 to 1023 bytes, no spaces or control characters), got \"my "
       "node\""},
      {"batch_zero", cfg("", R"(, "telemetry": {"batch_max": 0})"),
       "{F}: telemetry.batch_max: expected an integer from 1 to 100, got 0"},
      {"batch_high", cfg("", R"(, "telemetry": {"batch_max": 101})"),
       "{F}: telemetry.batch_max: expected an integer from 1 to 100, got 101"},
      {"batch_fraction", cfg("", R"(, "telemetry": {"batch_max": 1.5})"),
       "{F}: telemetry.batch_max: expected an integer from 1 to 100, got 1.5"},
      {"encoding_bad", cfg("", R"(, "telemetry": {"encoding": "json"})"),
       "{F}: telemetry.encoding: expected \"senml-xml\" or \"protobuf\", got \"json\""},
      // -- acl
      {"acl_not_object", cfg("", R"(, "acl": [])"), "{F}: acl: expected an object, got an array"},
      {"acl_unknown_key", cfg("", R"(, "acl": {"admins": []})"),
       "{F}: acl.admins: unknown key (expected one of: owners operators viewers)"},
      {"acl_owner_typo", cfg("", R"(, "acl": {"owner": []})"),
       "{F}: acl.owner: unknown key (did you mean \"owners\"?)"},
      {"acl_list_string", cfg("", R"(, "acl": {"owners": "admin@localhost"})"),
       "{F}: acl.owners: expected an array of bare JIDs or *@domain patterns, got \"admin@localhost\""},
      {"acl_viewer_2_malformed", cfg("", R"(, "acl": {"viewers": ["a@localhost", "*@localhost", "bob"]})"),
       "{F}: acl.viewers[2]: expected a bare JID (local@domain) or *@domain, got \"bob\" (no '@')"},
      {"acl_operator_number", cfg("", R"(, "acl": {"operators": [5]})"),
       "{F}: acl.operators[0]: expected a bare JID (local@domain) or *@domain, got 5"},
      {"acl_full_jid", cfg("", R"(, "acl": {"owners": ["admin@localhost/phone"]})"),
       "{F}: acl.owners[0]: expected a bare JID (local@domain) or *@domain, got \"admin@localhost/phone\" (has a "
       "resource)"},
      {"acl_star_empty_domain", cfg("", R"(, "acl": {"viewers": ["*@"]})"),
       "{F}: acl.viewers[0]: expected a bare JID (local@domain) or *@domain, got \"*@\" (empty)"},
      {"acl_star_local", cfg("", R"(, "acl": {"viewers": ["a*@localhost"]})"),
       "{F}: acl.viewers[0]: expected a bare JID (local@domain) or *@domain, got \"a*@localhost\" ('*' is "
       "only a wildcard as the whole local part: *@domain)"},
      {"acl_star_alone", cfg("", R"(, "acl": {"viewers": ["*"]})"),
       "{F}: acl.viewers[0]: expected a bare JID (local@domain) or *@domain, got \"*\" (no '@')"},
      // -- journal
      {"journal_not_object", cfg("", R"(, "journal": "state")"),
       "{F}: journal: expected an object, got \"state\""},
      {"journal_max_low", cfg("", R"(, "journal": {"max_bytes": 4095})"),
       "{F}: journal.max_bytes: expected an integer from 4096 to 1073741824, got 4095"},
      {"journal_max_high", cfg("", R"(, "journal": {"max_bytes": 1073741825})"),
       "{F}: journal.max_bytes: expected an integer from 4096 to 1073741824, got 1073741825"},
      {"journal_path_number", cfg("", R"(, "journal": {"path": 5})"),
       "{F}: journal.path: expected a file path (non-empty string), got 5"},
      {"journal_path_root", cfg("", R"(, "journal": {"path": "/"})"),
       "{F}: journal.path: expected a file path, got \"/\""},
      {"journal_parent_is_file", cfg("", R"(, "journal": {"path": "blocker/sub/journal"})"),
       "{F}: journal.path: cannot create directory {D}/blocker/sub: Not a directory"},
      {"journal_unknown_key", cfg("", R"(, "journal": {"max": 5})"),
       "{F}: journal.max: unknown key (expected one of: path max_bytes fsync fsync_interval_s)"},
      {"journal_fsync_bad", cfg("", R"(, "journal": {"fsync": "sometimes"})"),
       "{F}: journal.fsync: expected \"always\", \"interval\" or \"never\", got \"sometimes\""},
      {"journal_fsync_case", cfg("", R"(, "journal": {"fsync": "Always"})"),
       "{F}: journal.fsync: expected \"always\", \"interval\" or \"never\", got \"Always\""},
      {"journal_fsync_bool", cfg("", R"(, "journal": {"fsync": true})"),
       "{F}: journal.fsync: expected \"always\", \"interval\" or \"never\", got true"},
      {"journal_fsync_interval_low", cfg("", R"(, "journal": {"fsync_interval_s": 0.01})"),
       "{F}: journal.fsync_interval_s: expected a number from 0.05 to 3600, got 0.01"},
      {"journal_fsync_interval_high", cfg("", R"(, "journal": {"fsync_interval_s": 3601})"),
       "{F}: journal.fsync_interval_s: expected a number from 0.05 to 3600, got 3601"},
      {"journal_fsync_interval_string", cfg("", R"(, "journal": {"fsync_interval_s": "1s"})"),
       "{F}: journal.fsync_interval_s: expected a number from 0.05 to 3600, got \"1s\""},
      {"journal_fsync_typo", cfg("", R"(, "journal": {"fsynk": "always"})"),
       "{F}: journal.fsynk: unknown key (did you mean \"fsync\"?)"},
      {"journal_key_typo", cfg("", R"(, "journal": {"max_byte": 5000})"),
       "{F}: journal.max_byte: unknown key (did you mean \"max_bytes\"?)"},
      // -- log
      {"log_level_bad", cfg("", R"(, "log": {"level": "trace"})"),
       "{F}: log.level: expected \"error\", \"warn\", \"info\" or \"debug\", got \"trace\""},
      {"log_level_upper", cfg("", R"(, "log": {"level": "INFO"})"),
       "{F}: log.level: expected \"error\", \"warn\", \"info\" or \"debug\", got \"INFO\""},
      {"log_unknown_key", cfg("", R"(, "log": {"lvl": "info"})"),
       "{F}: log.lvl: unknown key (did you mean \"level\"?)"},
      // -- reboot
      {"reboot_bad", cfg("", R"(, "reboot": "systemctl")"),
       "{F}: reboot: expected \"exec\" or \"logind\", got \"systemctl\""},
      {"reboot_bool", cfg("", R"(, "reboot": true)"), "{F}: reboot: expected \"exec\" or \"logind\", got true"},
      {"reboot_case", cfg("", R"(, "reboot": "Logind")"),
       "{F}: reboot: expected \"exec\" or \"logind\", got \"Logind\""},
      // -- comments: blanked in place, so line:column still count the file as written
      {"comment_unterminated", "{\n  /* the device\n  \"xmpp\": {}\n}", "{F}:2:3: unterminated /* comment"},
      {"comment_then_malformed",
       "// provisioning file\n/* two\n   lines */\n{\"xmpp\": {\"jid\": \"a@b\",}}  // the end",
       "{F}:4:25: malformed JSON near \"}\""},
      {"comment_only", "// nothing but a comment\n/* and another */\n", "{F}: empty file; expected a JSON object"},
      // -- update (docs/updates.md)
      {"update_not_object", cfg("", R"(, "update": 1)"), "{F}: update: expected an object, got 1"},
      {"update_keys_missing", cfg("", R"(, "update": {})"),
       "{F}: update.public_keys: missing; expected an array of PEM file paths or inline PEM public keys"},
      {"update_keys_empty", cfg("", R"(, "update": {"public_keys": []})"),
       "{F}: update.public_keys: empty; expected at least one trusted update key"},
      {"update_key_unreadable", cfg("", R"(, "update": {"public_keys": ["nokey.pem"]})"),
       "{F}: update.public_keys[0]: cannot read {D}/nokey.pem: No such file or directory"},
      {"update_key_not_pem", cfg("", R"(, "update": {"public_keys": ["c.key"]})"),
       "{F}: update.public_keys[0]: {D}/c.key: not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")"},
      {"update_key_rsa", cfg("", R"(, "update": {"public_keys": ["rsa.pub"]})"),
       "{F}: update.public_keys[0]: {D}/rsa.pub: expected an EC P-256 public key, got another kind of key"},
      {"update_installer", cfg("", R"(, "update": {"public_keys": ["up.pub"], "installer": "mender"})"),
       "{F}: update.installer: expected \"sim\", \"rauc\" or \"deb\", got \"mender\""},
      {"update_health_window", cfg("", R"(, "update": {"public_keys": ["up.pub"], "health_window_s": 1})"),
       "{F}: update.health_window_s: expected a number from 5 to 3600, got 1"},
      {"update_unknown_key", cfg("", R"(, "update": {"public_keys": ["up.pub"], "installr": "sim"})"),
       "{F}: update.installr: unknown key (did you mean \"installer\"?)"},
      {"update_state_dir_blocked", cfg("", R"(, "update": {"public_keys": ["up.pub"], "state_dir": "blocker/x"})"),
       "{F}: update.state_dir: cannot create directory {D}/blocker/x: Not a directory"},
      // -- alerts (docs/alerts.md)
      {"alerts_no_room", cfg("", R"(, "alerts": {"rules": []})"),
       "{F}: alerts.room: missing; expected the bare JID of a XEP-0045 room, like alarms@conference.example.com"},
      {"alerts_room_full_jid", cfg("", R"(, "alerts": {"room": "a@conference.localhost/nick"})"),
       "{F}: alerts.room: expected the bare JID of a XEP-0045 room, like alarms@conference.example.com, got \"a@conference.localhost/nick\" (has a resource)"},
      {"alerts_unknown_key", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rule": []})"),
       "{F}: alerts.rule: unknown key (did you mean \"rules\"?)"},
      {"alerts_both", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [{"channel": "env0.temperature", "above": 30, "below": 5}]})"),
       "{F}: alerts.rules[0]: expected exactly one of \"above\" or \"below\", got both"},
      {"alerts_neither", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [{"channel": "env0.temperature"}]})"),
       "{F}: alerts.rules[0]: missing; expected exactly one of \"above\" or \"below\" (a number)"},
      {"alerts_no_channel", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [{"above": 1}]})"),
       "{F}: alerts.rules[0].channel: missing; expected a channel name device.quantity, like env0.temperature"},
      {"alerts_bad_channel", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [{"channel": "temperature", "above": 1}]})"),
       "{F}: alerts.rules[0].channel: expected a channel name device.quantity, like env0.temperature, got \"temperature\""},
      {"alerts_threshold_text", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [{"channel": "env0.temperature", "above": "30"}]})"),
       "{F}: alerts.rules[0].above: expected a number from -1000000000000 to 1000000000000, got \"30\""},
      {"alerts_negative_hysteresis", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [{"channel": "env0.temperature", "above": 30, "hysteresis": -1}]})"),
       "{F}: alerts.rules[0].hysteresis: expected a number from 0 to 1000000000000, got -1"},
      {"alerts_for_s", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [{"channel": "env0.temperature", "below": 5, "for_s": 86401}]})"),
       "{F}: alerts.rules[0].for_s: expected an integer from 0 to 86400, got 86401"},
      {"alerts_rule_key", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [{"channel": "env0.temperature", "above": 30, "for": 3}]})"),
       "{F}: alerts.rules[0].for: unknown key (did you mean \"for_s\"?)"},
      {"alerts_too_many", cfg("", R"(, "alerts": {"room": "a@c.localhost", "rules": [)" + many_rules(9) + "]}"),
       "{F}: alerts.rules: more than 8 rules (got 9)"},
      {"comment_hash_not_a_comment", "# shell style\n" + cfg(), "{F}:1:1: malformed JSON near \"# shell style\""},
  };
}

class ConfigErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrors, NamesFileKeyAndExpectation) {
  const ErrorCase& c = GetParam();
  TempDir dir;
  // Files the cases refer to.
  dir.write("board.json", "{}");
  dir.write("c.crt", "cert");
  dir.write("c.key", "key");
  dir.write("pw.txt", "pw\n");
  dir.write("empty.pw", "");
  dir.write("newline.pw", "\n\r\n");
  dir.write("huge.pw", std::string(2000, 'p'));
  dir.write("blocker", "not a directory");
  dir.write("sub/.keep", "");
  dir.write("up.pub", kUpdatePub);
  dir.write("rsa.pub",
            "-----BEGIN PUBLIC KEY-----\n"
            "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMmzYjCeR5eJ6bW7R9h7qW3BqG0n3xWp\n"
            "Xo0FQ0HqvR3m8G1pZCkZp6vV9oJ2cN8tWb1rmJrK8A4dQw9n3Fv1u0ECAwEAAQ==\n"
            "-----END PUBLIC KEY-----\n");
  const std::string file = dir.write("agent.json", c.json);

  agent::AgentConfig out;
  std::string error;
  EXPECT_FALSE(agent::load_config(file.c_str(), &out, &error));
  std::string expected = replace_all(c.expected, "{F}", file);
  expected = replace_all(expected, "{D}", dir.path());
  expected = replace_all(expected, "{P}", fs::path(dir.path()).parent_path().string());
  EXPECT_EQ(error, expected);
  EXPECT_EQ(error.find("secret"), std::string::npos);
  EXPECT_EQ(error.find("123456"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Table, ConfigErrors, ::testing::ValuesIn(error_cases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& i) { return std::string(i.param.name); });

TEST(Config, MissingFile) {
  TempDir dir;
  const std::string file = dir.path() + "/absent.json";
  agent::AgentConfig out;
  std::string error;
  EXPECT_FALSE(agent::load_config(file.c_str(), &out, &error));
  EXPECT_EQ(error, file + ": cannot read: No such file or directory");
}

TEST(Config, NullArguments) {
  agent::AgentConfig out;
  std::string error;
  EXPECT_FALSE(agent::load_config(nullptr, &out, &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(agent::load_config("", &out, &error));
  EXPECT_FALSE(error.empty());
}

TEST(Config, AllKeys) {
  TempDir dir;
  dir.write("boards/sim/board.json", "{}");
  dir.write("certs/ca.crt", "ca");
  const std::string file = dir.write("etc/agent.json", R"({
    "xmpp": {
      "jid": "dev1@localhost", "password": "s3cret",
      "resource": "lab bench", "host": "127.0.0.1", "port": 5223, "tls": "direct",
      "ca_file": "../certs/ca.crt", "client_cert": null, "client_key": null,
      "ping_interval_s": 45, "reconnect_base_s": 0.5, "reconnect_cap_s": 120
    },
    "board": "../boards/sim/board.json",
    "telemetry": { "interval_s": 0.25, "service": "pubsub.localhost", "node": "fleet/dev1",
                   "batch_max": 10, "encoding": "protobuf", "batch_window_s": 0.5 },
    "acl": { "owners": ["Admin@LocalHost"], "operators": ["ops@localhost"], "viewers": ["*@Localhost"] },
    "journal": { "path": "/tmp/../)" + dir.path().substr(1) + R"(/var/./journal", "max_bytes": 4096,
                 "fsync": "always", "fsync_interval_s": 2.5 },
    "log": { "level": "debug" }
  })");
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.file, file);
  EXPECT_EQ(c.dir, dir.path() + "/etc");
  EXPECT_EQ(c.xmpp.jid, "dev1@localhost");
  EXPECT_EQ(c.xmpp.password, "s3cret");
  EXPECT_EQ(c.xmpp.password_file, "");
  EXPECT_EQ(c.xmpp.resource, "lab bench");
  EXPECT_EQ(c.xmpp.host, "127.0.0.1");
  EXPECT_EQ(c.xmpp.port, 5223);
  EXPECT_EQ(c.xmpp.tls, agent::TlsMode::Direct);
  EXPECT_EQ(c.xmpp.ca_file, dir.path() + "/certs/ca.crt");
  EXPECT_EQ(c.xmpp.client_cert, "");
  EXPECT_EQ(c.xmpp.client_key, "");
  EXPECT_EQ(c.xmpp.ping_interval_s, 45u);
  EXPECT_DOUBLE_EQ(c.xmpp.reconnect_base_s, 0.5);
  EXPECT_DOUBLE_EQ(c.xmpp.reconnect_cap_s, 120);
  EXPECT_EQ(c.board, dir.path() + "/boards/sim/board.json");
  EXPECT_DOUBLE_EQ(c.telemetry.interval_s, 0.25);
  EXPECT_EQ(c.telemetry.service, "pubsub.localhost");
  EXPECT_EQ(c.telemetry.node, "fleet/dev1");
  EXPECT_EQ(c.telemetry.batch_max, 10u);
  EXPECT_DOUBLE_EQ(c.telemetry.batch_window_s, 0.5);
  EXPECT_EQ(c.telemetry.encoding, agent::Encoding::Protobuf);
  EXPECT_EQ(c.acl.owners, std::vector<std::string>{"admin@localhost"});
  EXPECT_EQ(c.acl.operators, std::vector<std::string>{"ops@localhost"});
  EXPECT_EQ(c.acl.viewers, std::vector<std::string>{"*@localhost"});
  EXPECT_EQ(c.journal.path, dir.path() + "/var/journal");
  EXPECT_EQ(c.journal.max_bytes, 4096u);
  EXPECT_EQ(c.journal.fsync, agent::FsyncPolicy::Always);
  EXPECT_DOUBLE_EQ(c.journal.fsync_interval_s, 2.5);
  EXPECT_TRUE(fs::is_directory(dir.path() + "/var"));
  EXPECT_EQ(c.log_level, agent::LogLevel::Debug);
}

TEST(Config, UpdateSection) {
  TempDir dir;
  dir.write("board.json", "{}");
  dir.write("keys/up.pub", kUpdatePub);
  const std::string inline_key = replace_all(kUpdatePub, "\n", "\\n");
  const std::string file = dir.write(
      "agent.json", cfg("", R"(, "update": {"public_keys": ["keys/up.pub", ")" + inline_key +
                                R"("], "installer": "rauc", "health_window_s": 30, "max_image_bytes": 4096,
                                     "state_dir": "upd"})"));
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_TRUE(c.update.enabled);
  ASSERT_EQ(c.update.public_keys.size(), 2u);
  EXPECT_EQ(c.update.public_keys[0], kUpdatePub);
  EXPECT_EQ(c.update.public_keys[1], kUpdatePub);
  EXPECT_EQ(c.update.key_names[0], dir.path() + "/keys/up.pub");
  EXPECT_EQ(c.update.key_names[1], file + ": update.public_keys[1]");
  EXPECT_EQ(c.update.installer, agent::InstallerKind::Rauc);
  EXPECT_DOUBLE_EQ(c.update.health_window_s, 30);
  EXPECT_EQ(c.update.max_image_bytes, 4096u);
  EXPECT_EQ(c.update.state_dir, dir.path() + "/upd");
  EXPECT_TRUE(fs::is_directory(dir.path() + "/upd"));

  // Absent: disabled, defaults.
  const std::string plain = dir.write("plain.json", cfg());
  agent::AgentConfig d;
  ASSERT_TRUE(agent::load_config(plain.c_str(), &d, &error)) << error;
  EXPECT_FALSE(d.update.enabled);
  EXPECT_EQ(d.update.installer, agent::InstallerKind::Sim);
  EXPECT_DOUBLE_EQ(d.update.health_window_s, 120);
  // The default state directory is the journal's parent.
  const std::string with_update = dir.write("u.json", cfg("", R"(, "journal": {"path": "var/j"}, "update": {"public_keys": ["keys/up.pub"]})"));
  agent::AgentConfig e;
  ASSERT_TRUE(agent::load_config(with_update.c_str(), &e, &error)) << error;
  EXPECT_EQ(e.update.state_dir, dir.path() + "/var/update");
}

TEST(Config, AlertsSection) {
  TempDir dir;
  dir.write("board.json", "{}");
  const std::string file = dir.write(
      "agent.json", cfg("", R"(, "alerts": {"room": "alarms@conference.localhost", "nick": "dev one",
          "rules": [{"channel": "env0.temperature", "above": 30, "hysteresis": 0.5, "for_s": 10},
                    {"channel": "env0.humidity", "below": 12.25}]})"));
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.alerts.room, "alarms@conference.localhost");
  EXPECT_EQ(c.alerts.nick, "dev one");
  ASSERT_EQ(c.alerts.rules.size(), 2u);
  char line[agent::kAlertLineMax];
  ASSERT_TRUE(agent::format_alert_rule(line, sizeof line, c.alerts.rules[0]).ok());
  EXPECT_STREQ(line, "env0.temperature above 30 hysteresis 0.5 for 10");
  ASSERT_TRUE(agent::format_alert_rule(line, sizeof line, c.alerts.rules[1]).ok());
  EXPECT_STREQ(line, "env0.humidity below 12.25");
  // Absent: no room, no rules.
  const std::string plain = dir.write("plain.json", cfg());
  agent::AgentConfig d;
  ASSERT_TRUE(agent::load_config(plain.c_str(), &d, &error)) << error;
  EXPECT_EQ(d.alerts.room, "");
  EXPECT_EQ(d.alerts.rules.size(), 0u);
}

TEST(Config, Defaults) {
  TempDir dir;
  dir.write("board.json", "{}");
  const std::string file = dir.write("agent.json", R"({"xmpp": {"jid": "dev1@example.org", "password": "x"},
                                                       "board": "board.json"})");
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.resource, "xiot");
  EXPECT_EQ(c.xmpp.host, "example.org");
  EXPECT_EQ(c.xmpp.port, 5222);
  EXPECT_EQ(c.xmpp.tls, agent::TlsMode::Required);
  EXPECT_EQ(c.xmpp.ca_file, "");
  EXPECT_EQ(c.xmpp.ping_interval_s, 30u);
  EXPECT_DOUBLE_EQ(c.xmpp.reconnect_base_s, 1.0);
  EXPECT_DOUBLE_EQ(c.xmpp.reconnect_cap_s, 60.0);
  EXPECT_DOUBLE_EQ(c.telemetry.interval_s, 10.0);
  EXPECT_DOUBLE_EQ(c.telemetry.sample_s, 1.0);
  EXPECT_DOUBLE_EQ(c.telemetry.batch_window_s, 1.0);
  EXPECT_EQ(c.telemetry.service, "pep");
  EXPECT_EQ(c.telemetry.node, "urn:xiot:telemetry:0");
  EXPECT_EQ(c.telemetry.batch_max, 1u);
  EXPECT_EQ(c.telemetry.encoding, agent::Encoding::SenmlXml);
  EXPECT_TRUE(c.acl.owners.empty());
  EXPECT_TRUE(c.acl.operators.empty());
  EXPECT_TRUE(c.acl.viewers.empty());
  EXPECT_EQ(c.journal.path, dir.path() + "/state/journal");
  EXPECT_EQ(c.journal.max_bytes, 1048576u);
  EXPECT_EQ(c.journal.fsync, agent::FsyncPolicy::Interval);
  EXPECT_DOUBLE_EQ(c.journal.fsync_interval_s, 1.0);
  EXPECT_TRUE(fs::is_directory(dir.path() + "/state"));
  EXPECT_EQ(c.log_level, agent::LogLevel::Info);
}

TEST(Config, DesignExampleLoads) {
  // The example of shared/DESIGN.md, with its relative paths laid out.
  TempDir dir;
  dir.write("boards/sim/board.json", "{}");
  dir.write("agent/certs/ca.crt", "ca");
  const std::string file = dir.write("agent/agent.json", R"({
  "xmpp": {
    "jid": "dev1@localhost", "password": "secret",
    "resource": "xiot",
    "host": "127.0.0.1", "port": 5222,
    "tls": "required",
    "ca_file": "certs/ca.crt",
    "client_cert": null, "client_key": null,
    "ping_interval_s": 30
  },
  "board": "../boards/sim/board.json",
  "telemetry": { "interval_s": 10, "service": "pep", "node": "urn:xiot:telemetry:0",
                 "batch_max": 1, "encoding": "senml-xml" },
  "acl": { "owners": ["admin@localhost"], "operators": ["ops@localhost"], "viewers": ["*@localhost"] },
  "journal": { "path": "state/journal", "max_bytes": 1048576 },
  "log": { "level": "info" }
})");
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.board, dir.path() + "/boards/sim/board.json");
  EXPECT_EQ(c.xmpp.ca_file, dir.path() + "/agent/certs/ca.crt");
  EXPECT_EQ(c.journal.path, dir.path() + "/agent/state/journal");
}

TEST(Config, PasswordFileTrimmedAndResolved) {
  TempDir dir;
  dir.write("board.json", "{}");
  dir.write("secrets/pw", "  pass word \r\n\n");
  const std::string file =
      dir.write("agent.json", xmpp_only(R"("jid": "dev1@localhost", "password_file": "secrets/pw")"));
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.password, "  pass word ");
  EXPECT_EQ(c.xmpp.password_file, dir.path() + "/secrets/pw");
}

TEST(Config, PasswordFileUnreadableNeverShowsContent) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  TempDir dir;
  dir.write("board.json", "{}");
  const std::string pw = dir.write("pw", "topsecret\n");
  ASSERT_EQ(::chmod(pw.c_str(), 0), 0);
  const std::string file = dir.write("agent.json", xmpp_only(R"("jid": "dev1@localhost", "password_file": "pw")"));
  agent::AgentConfig c;
  std::string error;
  EXPECT_FALSE(agent::load_config(file.c_str(), &c, &error));
  EXPECT_EQ(error, file + ": xmpp.password_file: cannot read " + pw + ": Permission denied");
}

TEST(Config, ClientCertificateForm) {
  TempDir dir;
  dir.write("board.json", "{}");
  dir.write("tls/dev.crt", "c");
  dir.write("tls/dev.key", "k");
  const std::string file = dir.write(
      "agent.json", xmpp_only(R"("jid": "dev1@localhost", "client_cert": "tls/dev.crt", "client_key": "tls/dev.key")"));
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.client_cert, dir.path() + "/tls/dev.crt");
  EXPECT_EQ(c.xmpp.client_key, dir.path() + "/tls/dev.key");
  EXPECT_EQ(c.xmpp.password, "");
}

TEST(Config, RelativeConfigPathAndAbsoluteBoard) {
  TempDir dir;
  const std::string board = dir.write("elsewhere/board.json", "{}");
  const std::string file = dir.write("conf/agent.json", R"({"xmpp": {"jid": "dev1@localhost", "password": "x"},
                                                            "board": ")" + board + R"("})");
  const std::string rel = fs::relative(file, fs::current_path()).string();
  ASSERT_NE(rel[0], '/');
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(rel.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.file, rel);
  EXPECT_EQ(c.dir, dir.path() + "/conf");
  EXPECT_EQ(c.board, board);
  EXPECT_EQ(c.journal.path, dir.path() + "/conf/state/journal");
}

TEST(Config, ServiceNodeDefaultUsesLocalpart) {
  TempDir dir;
  dir.write("board.json", "{}");
  const std::string file =
      dir.write("agent.json", cfg("", R"(, "telemetry": {"service": "pubsub.localhost"})"));
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.telemetry.node, "xiot/dev1/telemetry");
}

TEST(Config, ReconnectCapDefaultsToAtLeastBase) {
  TempDir dir;
  dir.write("board.json", "{}");
  const std::string file = dir.write("agent.json", cfg(R"(, "reconnect_base_s": 90)"));
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_DOUBLE_EQ(c.xmpp.reconnect_cap_s, 90);
}

TEST(Config, BoundaryValuesAccepted) {
  TempDir dir;
  dir.write("board.json", "{}");
  const std::string file = dir.write(
      "agent.json",
      cfg(R"(, "port": 65535, "ping_interval_s": 5, "reconnect_base_s": 0.1, "reconnect_cap_s": 86400)",
          R"(, "telemetry": {"interval_s": 0.05, "batch_max": 100}, )"
          R"("journal": {"max_bytes": 1073741824, "fsync": "never", "fsync_interval_s": 0.05})"));
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.port, 65535);
  EXPECT_EQ(c.xmpp.ping_interval_s, 5u);
  EXPECT_DOUBLE_EQ(c.telemetry.interval_s, 0.05);
  EXPECT_EQ(c.telemetry.batch_max, 100u);
  EXPECT_EQ(c.journal.max_bytes, 1073741824u);
  EXPECT_EQ(c.journal.fsync, agent::FsyncPolicy::Never);
  EXPECT_DOUBLE_EQ(c.journal.fsync_interval_s, 0.05);
}

TEST(Config, Utf8BomAccepted) {
  TempDir dir;
  dir.write("board.json", "{}");
  const std::string file = dir.write("agent.json", "\xEF\xBB\xBF" + cfg());
  agent::AgentConfig c;
  std::string error;
  EXPECT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
}

TEST(Config, RebootMethod) {
  TempDir dir;
  dir.write("board.json", "{}");
  agent::AgentConfig c;
  std::string error;
  const std::string dflt = dir.write("a.json", cfg());
  ASSERT_TRUE(agent::load_config(dflt.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.reboot, agent::RebootMethod::Exec);
  const std::string exec = dir.write("b.json", cfg("", R"(, "reboot": "exec")"));
  ASSERT_TRUE(agent::load_config(exec.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.reboot, agent::RebootMethod::Exec);
  const std::string logind = dir.write("c.json", cfg("", R"(, "reboot": "logind")"));
  ASSERT_TRUE(agent::load_config(logind.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.reboot, agent::RebootMethod::Logind);
  const std::string null = dir.write("d.json", cfg("", R"(, "reboot": null)"));
  ASSERT_TRUE(agent::load_config(null.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.reboot, agent::RebootMethod::Exec);
  EXPECT_STREQ(agent::reboot_method_name(agent::RebootMethod::Exec), "exec");
  EXPECT_STREQ(agent::reboot_method_name(agent::RebootMethod::Logind), "logind");
}

TEST(Config, CommentsAccepted) {
  TempDir dir;
  dir.write("board.json", "{}");
  // Comments everywhere a blank may be, and comment markers inside strings
  // that must stay text ("//" in a password, "/*" in a resource).
  const std::string file = dir.write("agent.json", R"(// xiot-agent config, written by hand
{
  /* the account */
  "xmpp": {
    "jid": "dev1@localhost",  // the device
    "password": "a//b/*c*/d",
    "resource": "x\"/*y"  /* an escaped quote does not end the string */
  },
  "board": "board.json", /* trailing
     block comment over two lines */
  "reboot": "logind"
}
// end)");
  agent::AgentConfig c;
  std::string error;
  ASSERT_TRUE(agent::load_config(file.c_str(), &c, &error)) << error;
  EXPECT_EQ(c.xmpp.jid, "dev1@localhost");
  EXPECT_EQ(c.xmpp.password, "a//b/*c*/d");
  EXPECT_EQ(c.xmpp.resource, "x\"/*y");
  EXPECT_EQ(c.reboot, agent::RebootMethod::Logind);
}

TEST(Config, CommentsKeepKeyErrorsNamed) {
  TempDir dir;
  dir.write("board.json", "{}");
  const std::string file = dir.write("agent.json", "// note\n" + cfg("", R"(, /* x */ "telemetry": {"interval_s": 0})"));
  agent::AgentConfig c;
  std::string error;
  EXPECT_FALSE(agent::load_config(file.c_str(), &c, &error));
  EXPECT_EQ(error, file + ": telemetry.interval_s: expected a number from 0.05 to 86400, got 0");
}

TEST(Config, ParseLogLevel) {
  agent::LogLevel l = agent::LogLevel::Info;
  EXPECT_TRUE(agent::parse_log_level("error", &l));
  EXPECT_EQ(l, agent::LogLevel::Error);
  EXPECT_TRUE(agent::parse_log_level("warn", &l));
  EXPECT_EQ(l, agent::LogLevel::Warn);
  EXPECT_TRUE(agent::parse_log_level("debug", &l));
  EXPECT_EQ(l, agent::LogLevel::Debug);
  EXPECT_TRUE(agent::parse_log_level("info", &l));
  EXPECT_EQ(l, agent::LogLevel::Info);
  EXPECT_FALSE(agent::parse_log_level("warning", &l));
  EXPECT_FALSE(agent::parse_log_level("", &l));
  EXPECT_FALSE(agent::parse_log_level(nullptr, &l));
  EXPECT_EQ(l, agent::LogLevel::Info);
  EXPECT_STREQ(agent::log_level_name(agent::LogLevel::Warn), "warn");
}

}  // namespace
