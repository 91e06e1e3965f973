#include "fleet/firmware.hpp"

#include <fcntl.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "agent/update_manifest.hpp"
#include "fleet/error.hpp"

namespace fleet {
namespace {

[[noreturn]] void fail(const std::string& msg) { throw Error(Exit::Usage, msg); }

std::string errno_text() { return std::strerror(errno); }

/// Owns the mbedTLS RNG for one operation.
struct Rng {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  Rng() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    static const unsigned char kPers[] = "xiotctl-firmware";
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, kPers, sizeof kPers - 1) != 0) {
      mbedtls_ctr_drbg_free(&drbg);
      mbedtls_entropy_free(&entropy);
      throw Error(Exit::Usage, "cannot seed the random number generator");
    }
  }
  ~Rng() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
};

struct Pk {
  mbedtls_pk_context pk;
  Pk() { mbedtls_pk_init(&pk); }
  ~Pk() { mbedtls_pk_free(&pk); }
};

/// Creates `path` exclusively with `mode` and writes `text`.
void write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) fail("cannot create " + path + ": " + errno_text() + (errno == EEXIST ? " (not overwritten)" : ""));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail("cannot write " + path + ": " + errno_text());
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0 || ::close(fd) != 0) fail("cannot write " + path + ": " + errno_text());
}

/// Replaces `path` with `text` (temp + rename).
void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  write_new_file(tmp, text, 0644);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot write " + path + ": " + errno_text());
}

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(std::string("cannot read ") + what + " " + path + ": " + errno_text());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) fail("cannot create directory " + dir + ": " + errno_text());
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) fail(dir + " is not a directory");
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void check_version(const char* flag, const std::string& v) {
  if (const char* why = agent::parse_version(v.c_str(), nullptr)) {
    fail(std::string(flag) + " '" + v + "' is not a dotted version like 1.4.2 (" + why + ")");
  }
}

}  // namespace

std::string base64(const std::string& data) {
  size_t n = 0;
  mbedtls_base64_encode(nullptr, 0, &n, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string out(n, '\0');
  if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(&out[0]), out.size(), &n,
                            reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 0) {
    fail("base64 encoding failed");
  }
  out.resize(n);
  return out;
}

void firmware_keygen(const std::string& dir) {
  make_dir(dir);
  Rng rng;
  Pk key;
  if (mbedtls_pk_setup(&key.pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
      mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.pk), mbedtls_ctr_drbg_random, &rng.drbg) != 0) {
    fail("cannot generate an EC P-256 key");
  }
  unsigned char buf[1024];
  if (mbedtls_pk_write_key_pem(&key.pk, buf, sizeof buf) != 0) fail("cannot encode the private key");
  const std::string priv(reinterpret_cast<char*>(buf));
  mbedtls_platform_zeroize(buf, sizeof buf);
  if (mbedtls_pk_write_pubkey_pem(&key.pk, buf, sizeof buf) != 0) fail("cannot encode the public key");
  const std::string pub(reinterpret_cast<char*>(buf));
  const std::string priv_path = dir + "/update-key.pem";
  const std::string pub_path = dir + "/update-key.pub.pem";
  if (::access(priv_path.c_str(), F_OK) == 0) fail(priv_path + " exists (not overwritten)");
  if (::access(pub_path.c_str(), F_OK) == 0) fail(pub_path + " exists (not overwritten)");
  write_new_file(priv_path, priv, 0600);
  write_new_file(pub_path, pub, 0644);
}

std::string file_sha256_hex(const std::string& path, uint64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read image " + path + ": " + errno_text());
  mbedtls_sha256_context ctx;
  mbedtls_sha256_init(&ctx);
  mbedtls_sha256_starts_ret(&ctx, 0);
  std::unique_ptr<char[]> buf(new char[65536]);
  uint64_t total = 0;
  while (in) {
    in.read(buf.get(), 65536);
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    mbedtls_sha256_update_ret(&ctx, reinterpret_cast<unsigned char*>(buf.get()), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  uint8_t digest[32];
  mbedtls_sha256_finish_ret(&ctx, digest);
  mbedtls_sha256_free(&ctx);
  char hex[65];
  agent::sha256_hex(digest, hex);
  if (size != nullptr) *size = total;
  return hex;
}

std::string firmware_manifest_json(const SignRequest& r, uint64_t size, const std::string& sha256_hex) {
  std::string m = "{\"version\":" + json_string(r.version) + ",\"compatible\":" + json_string(r.compatible) +
                  ",\"size\":" + std::to_string(size) + ",\"sha256\":\"" + sha256_hex + "\"";
  if (!r.min_version.empty()) m += ",\"min_version\":" + json_string(r.min_version);
  m += ",\"notes\":" + json_string(r.notes) + "}\n";
  return m;
}

std::string firmware_signature_b64(const std::string& key_file, const std::string& data) {
  const std::string pem = read_text(key_file, "key");
  Rng rng;
  Pk key;
  if (mbedtls_pk_parse_key(&key.pk, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1, nullptr, 0) !=
      0) {
    fail(key_file + ": not a PEM private key");
  }
  if (mbedtls_pk_get_type(&key.pk) != MBEDTLS_PK_ECKEY || mbedtls_pk_ec(key.pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
    fail(key_file + ": expected an EC P-256 private key (xiotctl firmware keygen makes one)");
  }
  unsigned char hash[32];
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(data.data()), data.size(), hash, 0);
  unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
  size_t sig_len = 0;
  if (mbedtls_pk_sign(&key.pk, MBEDTLS_MD_SHA256, hash, sizeof hash, sig, &sig_len, mbedtls_ctr_drbg_random,
                      &rng.drbg) != 0) {
    fail("signing with " + key_file + " failed");
  }
  return base64(std::string(reinterpret_cast<char*>(sig), sig_len));
}

std::string firmware_sign(const SignRequest& r) {
  check_version("--version", r.version);
  if (!r.min_version.empty()) check_version("--min-version", r.min_version);
  if (r.compatible.empty() || r.compatible.size() > agent::kCompatibleMaxChars ||
      r.compatible.find_first_of(" \t\r\n\"") != std::string::npos) {
    fail("--compatible '" + r.compatible + "' is not a board compatible like xiot,sim");
  }
  if (r.notes.size() > agent::kNotesMaxChars) fail("--notes is longer than " + std::to_string(agent::kNotesMaxChars));
  uint64_t size = 0;
  const std::string sha = file_sha256_hex(r.image, &size);
  if (size == 0) fail("image " + r.image + " is empty");
  const std::string manifest = firmware_manifest_json(r, size, sha);
  const std::string sig = firmware_signature_b64(r.key_file, manifest);
  make_dir(r.out_dir);
  write_file(r.out_dir + "/manifest.json", manifest);
  write_file(r.out_dir + "/manifest.sig", sig + "\n");
  return manifest;
}

}  // namespace fleet
