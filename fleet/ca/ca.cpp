#include "fleet/ca.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "agent/identity.hpp"
#include "fleet/error.hpp"

namespace fleet {
namespace ca {

namespace {

[[noreturn]] void fail(const std::string& m) { throw Error(Exit::Usage, m); }

std::string mbed(const char* what, int ret) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s (mbedTLS -0x%04x)", what, static_cast<unsigned>(-ret));
  return buf;
}

struct Rng {
  Rng() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    static const char kPers[] = "xiotctl-ca";
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, reinterpret_cast<const unsigned char*>(kPers),
                              sizeof kPers - 1) != 0) {
      throw Error(Exit::DeviceError, "no entropy for the CA's random numbers");
    }
  }
  ~Rng() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
};

struct Key {
  Key() { mbedtls_pk_init(&pk); }
  ~Key() { mbedtls_pk_free(&pk); }
  mbedtls_pk_context pk;
};

struct Writer {
  Writer() { mbedtls_x509write_crt_init(&w); }
  ~Writer() { mbedtls_x509write_crt_free(&w); }
  mbedtls_x509write_cert w;
};

struct Crt {
  Crt() { mbedtls_x509_crt_init(&c); }
  ~Crt() { mbedtls_x509_crt_free(&c); }
  mbedtls_x509_crt c;
};

void parse_key(const std::string& pem, mbedtls_pk_context* pk, const std::string& what) {
  const int ret =
      mbedtls_pk_parse_key(pk, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1, nullptr, 0);
  if (ret != 0) fail(mbed((what + ": not a private key").c_str(), ret));
}

// "YYYYMMDDhhmmss" for mbedtls_x509write_crt_set_validity.
std::string x509_time(int64_t t) {
  const std::string iso = agent::identity::iso8601(t);  // YYYY-MM-DDTHH:MM:SSZ
  std::string out;
  for (char c : iso) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

// An mbedTLS subject string ("CN=a,O=b") from mbedtls_x509_dn_gets's "CN=a, O=b".
std::string name_string(const mbedtls_x509_name* name) {
  char buf[512];
  if (mbedtls_x509_dn_gets(buf, sizeof buf, name) < 0) fail("the CA's subject is too long");
  std::string out;
  for (const char* p = buf; *p != '\0'; ++p) {
    out += *p;
    if (*p == ',' && p[1] == ' ') ++p;
  }
  return out;
}

void random_serial(Rng& rng, mbedtls_mpi* serial) {
  unsigned char bytes[16];
  if (mbedtls_ctr_drbg_random(&rng.drbg, bytes, sizeof bytes) != 0) fail("no random serial");
  bytes[0] &= 0x7F;
  bytes[0] |= 0x40;  // positive, never shortened
  if (mbedtls_mpi_read_binary(serial, bytes, sizeof bytes) != 0) fail("serial");
}

std::string write_pem(Writer& w, Rng& rng) {
  std::vector<unsigned char> buf(8192);
  const int ret = mbedtls_x509write_crt_pem(&w.w, buf.data(), buf.size(), mbedtls_ctr_drbg_random, &rng.drbg);
  if (ret != 0) fail(mbed("writing the certificate", ret));
  return reinterpret_cast<const char*>(buf.data());
}

void check(int ret, const char* what) {
  if (ret != 0) fail(mbed(what, ret));
}

// extendedKeyUsage: SEQUENCE { serverAuth, clientAuth }.
std::string eku_server_client() {
  unsigned char buf[64];
  unsigned char* const start = buf;
  unsigned char* p = buf + sizeof buf;
  size_t len = 0;
  int ret = mbedtls_asn1_write_oid(&p, start, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH));
  len += static_cast<size_t>(ret);
  ret = mbedtls_asn1_write_oid(&p, start, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
  len += static_cast<size_t>(ret);
  len += static_cast<size_t>(mbedtls_asn1_write_len(&p, start, len));
  len += static_cast<size_t>(mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  return std::string(reinterpret_cast<const char*>(p), len);
}

int make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return 0;
  return errno;
}

}  // namespace

std::string read_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) fail(path + ": cannot read: " + std::strerror(errno));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

void write_file(const std::string& path, const std::string& text, unsigned mode) {
  const std::string tmp = path + ".tmp";
  (void)::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) fail(path + ": cannot write: " + std::strerror(errno));
  bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    (void)::unlink(tmp.c_str());
    fail(path + ": cannot write: " + std::strerror(e));
  }
}

void init(const std::string& dir, int days, int64_t now, const std::string& name) {
  if (days < 1) fail("--days: expected a positive number of days");
  const std::string key_path = dir + "/ca.key";
  struct stat st;
  if (::stat(key_path.c_str(), &st) == 0) fail(key_path + " exists; refusing to replace a CA key");
  const int e = make_dir(dir);
  if (e != 0) fail(dir + ": cannot create: " + std::strerror(e));
  std::string key_pem;
  if (agent::identity::generate_key(&key_pem) != hal::Err::Ok) fail("CA key generation failed");
  Key key;
  parse_key(key_pem, &key.pk, "CA key");
  Rng rng;
  Writer w;
  mbedtls_x509write_crt_set_version(&w.w, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w.w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&w.w, &key.pk);
  mbedtls_x509write_crt_set_issuer_key(&w.w, &key.pk);
  const std::string subject = "CN=" + name;
  check(mbedtls_x509write_crt_set_subject_name(&w.w, subject.c_str()), "CA subject");
  check(mbedtls_x509write_crt_set_issuer_name(&w.w, subject.c_str()), "CA issuer");
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  random_serial(rng, &serial);
  const int ret = mbedtls_x509write_crt_set_serial(&w.w, &serial);
  mbedtls_mpi_free(&serial);
  check(ret, "serial");
  check(mbedtls_x509write_crt_set_validity(&w.w, x509_time(now - 60).c_str(),
                                           x509_time(now + static_cast<int64_t>(days) * 86400).c_str()),
        "validity");
  check(mbedtls_x509write_crt_set_basic_constraints(&w.w, 1, -1), "basicConstraints");
  check(mbedtls_x509write_crt_set_key_usage(&w.w, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN),
        "keyUsage");
  check(mbedtls_x509write_crt_set_subject_key_identifier(&w.w), "subjectKeyIdentifier");
  const std::string cert = write_pem(w, rng);
  write_file(key_path, key_pem, 0600);
  std::fill(key_pem.begin(), key_pem.end(), '\0');
  write_file(dir + "/ca.crt", cert, 0644);
}

Issued sign_with(const std::string& ca_key_pem, const std::string& ca_cert_pem, const std::string& csr_pem, int days,
                 int64_t start, const std::string& expect_jid) {
  if (days < 1) fail("--days: expected a positive number of days");
  agent::identity::CsrInfo csr;
  std::string error;
  if (agent::identity::read_csr(csr_pem, &csr, &error) != hal::Err::Ok) fail("CSR: " + error);
  if (csr.jid.empty()) fail("CSR: no id-on-xmppAddr in its subjectAltName (make it with `xiot-agent identity new`)");
  if (!expect_jid.empty() && csr.jid != expect_jid) {
    fail("CSR: its xmppAddr is " + csr.jid + ", expected " + expect_jid);
  }
  Key ca_key;
  parse_key(ca_key_pem, &ca_key.pk, "CA key");
  Crt ca;
  if (mbedtls_x509_crt_parse(&ca.c, reinterpret_cast<const unsigned char*>(ca_cert_pem.c_str()),
                             ca_cert_pem.size() + 1) != 0) {
    fail("CA certificate: not a certificate");
  }
  if (mbedtls_pk_check_pair(&ca.c.pk, &ca_key.pk) != 0) fail("CA key does not match the CA certificate");
  Key subject_key;
  {
    const int ret = mbedtls_pk_parse_public_key(
        &subject_key.pk, reinterpret_cast<const unsigned char*>(csr.pubkey_der.data()), csr.pubkey_der.size());
    if (ret != 0) fail(mbed("CSR: public key", ret));
  }
  std::string san;
  if (agent::identity::xmpp_addr_san(csr.jid, &san) != hal::Err::Ok) fail("CSR: bad JID " + csr.jid);
  Rng rng;
  Writer w;
  mbedtls_x509write_crt_set_version(&w.w, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w.w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&w.w, &subject_key.pk);
  mbedtls_x509write_crt_set_issuer_key(&w.w, &ca_key.pk);
  std::string subject = "CN=";
  for (char c : csr.jid) {
    if (c == ',') subject += '\\';
    subject += c;
  }
  check(mbedtls_x509write_crt_set_subject_name(&w.w, subject.c_str()), "subject");
  check(mbedtls_x509write_crt_set_issuer_name(&w.w, name_string(&ca.c.subject).c_str()), "issuer");
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  random_serial(rng, &serial);
  const int ret = mbedtls_x509write_crt_set_serial(&w.w, &serial);
  mbedtls_mpi_free(&serial);
  check(ret, "serial");
  Issued out;
  out.jid = csr.jid;
  out.not_before = start;
  out.not_after = start + static_cast<int64_t>(days) * 86400;
  check(mbedtls_x509write_crt_set_validity(&w.w, x509_time(out.not_before).c_str(),
                                           x509_time(out.not_after).c_str()),
        "validity");
  // The order here is the order in the certificate: the SAN must not be first.
  check(mbedtls_x509write_crt_set_basic_constraints(&w.w, 0, -1), "basicConstraints");
  check(mbedtls_x509write_crt_set_key_usage(&w.w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_AGREEMENT),
        "keyUsage");
  const std::string eku = eku_server_client();
  check(mbedtls_x509write_crt_set_extension(&w.w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                            MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                            reinterpret_cast<const unsigned char*>(eku.data()), eku.size()),
        "extendedKeyUsage");
  check(mbedtls_x509write_crt_set_subject_key_identifier(&w.w), "subjectKeyIdentifier");
  check(mbedtls_x509write_crt_set_authority_key_identifier(&w.w), "authorityKeyIdentifier");
  check(mbedtls_x509write_crt_set_extension(&w.w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                            MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                            reinterpret_cast<const unsigned char*>(san.data()), san.size()),
        "subjectAltName");
  out.cert_pem = write_pem(w, rng);
  agent::identity::CertInfo info;
  if (agent::identity::read_cert(out.cert_pem, &info, &error) != hal::Err::Ok) fail("issued certificate: " + error);
  out.serial = info.serial;
  return out;
}

Issued sign(const std::string& dir, const std::string& csr_pem, int days, int64_t start,
            const std::string& expect_jid) {
  std::string key = read_file(dir + "/ca.key");
  const std::string cert = read_file(dir + "/ca.crt");
  Issued out = sign_with(key, cert, csr_pem, days, start, expect_jid);
  std::fill(key.begin(), key.end(), '\0');
  return out;
}

}  // namespace ca
}  // namespace fleet
