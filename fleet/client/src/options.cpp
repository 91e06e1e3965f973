#include "fleet/options.hpp"

#include <cjson/cJSON.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <unistd.h>

#include "fleet/error.hpp"

namespace fleet {
namespace {

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  return base_dir + "/" + p;
}

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Exit::Usage, what + ": cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string bare_jid(const std::string& jid) { return jid.substr(0, jid.find('/')); }

std::string jid_domain(const std::string& jid) {
  const std::string bare = bare_jid(jid);
  const size_t at = bare.find('@');
  return at == std::string::npos ? bare : bare.substr(at + 1);
}

void load_operator_config(const std::string& path, ConnectionOptions* opts) {
  const std::string text = read_file(path, "config");
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(cJSON_Parse(text.c_str()), &cJSON_Delete);
  if (!root) {
    const char* where = cJSON_GetErrorPtr();
    std::string near = where != nullptr ? std::string(where).substr(0, 20) : "";
    throw Error(Exit::Usage, path + ": not valid JSON" + (near.empty() ? "" : " near '" + near + "'"));
  }
  if (!cJSON_IsObject(root.get())) throw Error(Exit::Usage, path + ": expected a JSON object");
  const std::string base = dir_of(path);
  auto bad = [&](const char* key, const std::string& why) {
    return Error(Exit::Usage, path + ": key '" + key + "': " + why);
  };
  bool have_password = false;
  for (const cJSON* item = root->child; item != nullptr; item = item->next) {
    const std::string key = item->string != nullptr ? item->string : "";
    if (key == "jid" || key == "password" || key == "password_file" || key == "host" ||
        key == "ca_file") {
      if (!cJSON_IsString(item)) throw bad(key.c_str(), "expected a string");
      const std::string v = item->valuestring;
      if (v.empty()) throw bad(key.c_str(), "must not be empty");
      if (key == "jid") {
        opts->jid = v;
      } else if (key == "password") {
        if (have_password) throw bad("password", "give either password or password_file");
        opts->password = v;
        have_password = true;
      } else if (key == "password_file") {
        if (have_password) throw bad("password_file", "give either password or password_file");
        std::string pw = read_file(resolve(base, v), path + ": key 'password_file'");
        while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
        if (pw.empty()) throw bad("password_file", "the file is empty");
        opts->password = pw;
        have_password = true;
      } else if (key == "host") {
        opts->host = v;
      } else {
        opts->ca_file = resolve(base, v);
      }
    } else if (key == "port") {
      if (!cJSON_IsNumber(item) || std::floor(item->valuedouble) != item->valuedouble) {
        throw bad("port", "expected an integer");
      }
      if (item->valuedouble < 1 || item->valuedouble > 65535) throw bad("port", "must be 1-65535");
      opts->port = static_cast<int>(item->valuedouble);
    } else {
      throw bad(key.c_str(), "unknown key (known: jid, password, password_file, host, port, ca_file)");
    }
  }
}

void validate_options(const ConnectionOptions& opts) {
  if (opts.jid.empty()) throw Error(Exit::Usage, "no JID: give --jid or a config file with \"jid\"");
  const std::string bare = bare_jid(opts.jid);
  const size_t at = bare.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= bare.size()) {
    throw Error(Exit::Usage, "JID '" + opts.jid + "' is not of the form user@domain");
  }
  if (opts.password.empty()) {
    throw Error(Exit::Usage, "no password: give --password or a config file with \"password\"");
  }
  if (opts.port < 1 || opts.port > 65535) {
    throw Error(Exit::Usage, "port " + std::to_string(opts.port) + " is not in 1-65535");
  }
  if (!opts.ca_file.empty() && access(opts.ca_file.c_str(), R_OK) != 0) {
    throw Error(Exit::Usage, "CA file " + opts.ca_file + ": " + std::strerror(errno));
  }
}

}  // namespace fleet
