#include "agent/identity.hpp"

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace agent {
namespace identity {

namespace {

// 1.3.6.1.5.5.7.8.5 (id-on-xmppAddr), DER body.
constexpr unsigned char kXmppAddrOidDer[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x05};
// 1.2.840.113549.1.9.14 (PKCS#9 extensionRequest), DER body.
constexpr unsigned char kExtensionRequestOid[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0E};
// 2.5.29.17 (subjectAltName).
constexpr unsigned char kSanOid[] = {0x55, 0x1D, 0x11};

constexpr size_t kMaxJid = 1023;
constexpr unsigned char kContext0 = MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0;

// A seeded CTR-DRBG for one operation.
class Rng {
 public:
  Rng() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
    static const char kPers[] = "xiot-identity";
    ok_ = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                reinterpret_cast<const unsigned char*>(kPers), sizeof kPers - 1) == 0;
  }
  ~Rng() {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  Rng(const Rng&) = delete;
  Rng& operator=(const Rng&) = delete;
  bool ok() const { return ok_; }
  mbedtls_ctr_drbg_context* ctx() { return &drbg_; }

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  bool ok_ = false;
};

struct Pk {
  Pk() { mbedtls_pk_init(&pk); }
  ~Pk() { mbedtls_pk_free(&pk); }
  Pk(const Pk&) = delete;
  Pk& operator=(const Pk&) = delete;
  mbedtls_pk_context pk;
};

bool parse_private_key(const std::string& pem, mbedtls_pk_context* pk) {
  // mbedtls wants the PEM's terminating NUL counted in the length.
  return mbedtls_pk_parse_key(pk, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1, nullptr, 0) ==
         0;
}

std::string mbed_error(const char* what, int ret) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s (mbedTLS -0x%04x)", what, static_cast<unsigned>(-ret));
  return buf;
}

// Walks an Extensions SEQUENCE for `oid`; *value/*len = its extnValue body.
bool find_extension(unsigned char* p, const unsigned char* end, const unsigned char* oid, size_t oid_len,
                    unsigned char** value, size_t* value_len, bool* malformed) {
  size_t len = 0;
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
    *malformed = true;
    return false;
  }
  const unsigned char* seq_end = p + len;
  while (p < seq_end) {
    size_t ext_len = 0;
    if (mbedtls_asn1_get_tag(&p, seq_end, &ext_len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
      *malformed = true;
      return false;
    }
    unsigned char* ext_end = p + ext_len;
    size_t id_len = 0;
    if (mbedtls_asn1_get_tag(&p, ext_end, &id_len, MBEDTLS_ASN1_OID) != 0) {
      *malformed = true;
      return false;
    }
    const bool match = id_len == oid_len && std::memcmp(p, oid, oid_len) == 0;
    p += id_len;
    if (match) {
      int critical = 0;
      (void)mbedtls_asn1_get_bool(&p, ext_end, &critical);  // optional
      size_t v_len = 0;
      if (mbedtls_asn1_get_tag(&p, ext_end, &v_len, MBEDTLS_ASN1_OCTET_STRING) != 0) {
        *malformed = true;
        return false;
      }
      *value = p;
      *value_len = v_len;
      return true;
    }
    p = ext_end;
  }
  return false;
}

// The extensionRequest's Extensions inside a CertificationRequestInfo.
bool csr_extensions(const mbedtls_x509_buf& cri, unsigned char** ext, const unsigned char** ext_end,
                    bool* malformed) {
  unsigned char* p = cri.p;
  const unsigned char* end = cri.p + cri.len;
  size_t len = 0;
  if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
    *malformed = true;
    return false;
  }
  end = p + len;
  // version, subject, subjectPKInfo
  const int skip[] = {MBEDTLS_ASN1_INTEGER, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE,
                      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE};
  for (int tag : skip) {
    if (mbedtls_asn1_get_tag(&p, end, &len, tag) != 0) {
      *malformed = true;
      return false;
    }
    p += len;
  }
  if (mbedtls_asn1_get_tag(&p, end, &len, kContext0) != 0) return false;  // no attributes
  const unsigned char* attrs_end = p + len;
  while (p < attrs_end) {
    size_t attr_len = 0;
    if (mbedtls_asn1_get_tag(&p, attrs_end, &attr_len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
      *malformed = true;
      return false;
    }
    unsigned char* attr_end = p + attr_len;
    size_t oid_len = 0;
    if (mbedtls_asn1_get_tag(&p, attr_end, &oid_len, MBEDTLS_ASN1_OID) != 0) {
      *malformed = true;
      return false;
    }
    const bool match = oid_len == sizeof kExtensionRequestOid && std::memcmp(p, kExtensionRequestOid, oid_len) == 0;
    p += oid_len;
    if (match) {
      size_t set_len = 0;
      if (mbedtls_asn1_get_tag(&p, attr_end, &set_len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET) != 0) {
        *malformed = true;
        return false;
      }
      *ext = p;
      *ext_end = p + set_len;
      return true;
    }
    p = attr_end;
  }
  return false;
}

std::string dn_string(const mbedtls_x509_name* name) {
  char buf[512];
  const int n = mbedtls_x509_dn_gets(buf, sizeof buf, name);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

int64_t x509_time(const mbedtls_x509_time& t) { return unix_time(t.year, t.mon, t.day, t.hour, t.min, t.sec); }

}  // namespace

hal::Err xmpp_addr_san(const std::string& jid, std::string* der) {
  if (jid.empty() || jid.size() > kMaxJid) return hal::Err::InvalidArgument;
  std::vector<unsigned char> buf(jid.size() + 64);
  unsigned char* const start = buf.data();
  unsigned char* p = start + buf.size();
  size_t inner = 0;
  int ret = mbedtls_asn1_write_utf8_string(&p, start, jid.data(), jid.size());
  if (ret < 0) return hal::Err::Overflow;
  inner += static_cast<size_t>(ret);
  // [0] EXPLICIT around the value
  if ((ret = mbedtls_asn1_write_len(&p, start, inner)) < 0) return hal::Err::Overflow;
  inner += static_cast<size_t>(ret);
  if ((ret = mbedtls_asn1_write_tag(&p, start, kContext0)) < 0) return hal::Err::Overflow;
  inner += static_cast<size_t>(ret);
  if ((ret = mbedtls_asn1_write_oid(&p, start, reinterpret_cast<const char*>(kXmppAddrOidDer),
                                    sizeof kXmppAddrOidDer)) < 0) {
    return hal::Err::Overflow;
  }
  inner += static_cast<size_t>(ret);
  // otherName: [0] IMPLICIT OtherName (constructed)
  if ((ret = mbedtls_asn1_write_len(&p, start, inner)) < 0) return hal::Err::Overflow;
  inner += static_cast<size_t>(ret);
  if ((ret = mbedtls_asn1_write_tag(&p, start, kContext0)) < 0) return hal::Err::Overflow;
  inner += static_cast<size_t>(ret);
  // GeneralNames
  if ((ret = mbedtls_asn1_write_len(&p, start, inner)) < 0) return hal::Err::Overflow;
  inner += static_cast<size_t>(ret);
  if ((ret = mbedtls_asn1_write_tag(&p, start, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0) {
    return hal::Err::Overflow;
  }
  inner += static_cast<size_t>(ret);
  der->assign(reinterpret_cast<const char*>(p), inner);
  return hal::Err::Ok;
}

hal::Err xmpp_addr_from_san(const unsigned char* der, size_t len, std::string* jid) {
  unsigned char* p = const_cast<unsigned char*>(der);
  const unsigned char* end = der + len;
  size_t seq_len = 0;
  if (mbedtls_asn1_get_tag(&p, end, &seq_len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
    return hal::Err::Corrupt;
  }
  const unsigned char* seq_end = p + seq_len;
  while (p < seq_end) {
    const unsigned char tag = *p++;
    size_t name_len = 0;
    if (mbedtls_asn1_get_len(&p, seq_end, &name_len) != 0) return hal::Err::Corrupt;
    unsigned char* name_end = p + name_len;
    if (tag == kContext0) {
      size_t oid_len = 0;
      if (mbedtls_asn1_get_tag(&p, name_end, &oid_len, MBEDTLS_ASN1_OID) != 0) return hal::Err::Corrupt;
      if (oid_len == sizeof kXmppAddrOidDer && std::memcmp(p, kXmppAddrOidDer, oid_len) == 0) {
        p += oid_len;
        size_t v_len = 0;
        if (mbedtls_asn1_get_tag(&p, name_end, &v_len, kContext0) != 0 ||
            mbedtls_asn1_get_tag(&p, name_end, &v_len, MBEDTLS_ASN1_UTF8_STRING) != 0) {
          return hal::Err::Corrupt;
        }
        jid->assign(reinterpret_cast<const char*>(p), v_len);
        return hal::Err::Ok;
      }
    }
    p = name_end;
  }
  return hal::Err::NotFound;
}

hal::Err generate_key(std::string* key_pem) {
  Rng rng;
  if (!rng.ok()) return hal::Err::Io;
  Pk key;
  if (mbedtls_pk_setup(&key.pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
      mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.pk), mbedtls_ctr_drbg_random, rng.ctx()) != 0) {
    return hal::Err::Io;
  }
  unsigned char buf[512];
  if (mbedtls_pk_write_key_pem(&key.pk, buf, sizeof buf) != 0) return hal::Err::Io;
  key_pem->assign(reinterpret_cast<const char*>(buf));
  mbedtls_platform_zeroize(buf, sizeof buf);
  return hal::Err::Ok;
}

hal::Err make_csr(const std::string& key_pem, const std::string& jid, std::string* csr_pem, std::string* error) {
  Pk key;
  if (!parse_private_key(key_pem, &key.pk)) {
    *error = "not a private key (PEM)";
    return hal::Err::InvalidArgument;
  }
  std::string san;
  if (xmpp_addr_san(jid, &san) != hal::Err::Ok) {
    *error = "bad JID '" + jid + "'";
    return hal::Err::InvalidArgument;
  }
  // mbedTLS's subject-name parser escapes only ',' (2.28).
  std::string subject = "CN=";
  for (char c : jid) {
    if (c == ',') subject += '\\';
    subject += c;
  }
  Rng rng;
  if (!rng.ok()) return hal::Err::Io;
  mbedtls_x509write_csr csr;
  mbedtls_x509write_csr_init(&csr);
  mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
  mbedtls_x509write_csr_set_key(&csr, &key.pk);
  hal::Err result = hal::Err::Ok;
  int ret = mbedtls_x509write_csr_set_subject_name(&csr, subject.c_str());
  if (ret != 0) {
    *error = mbed_error("bad subject", ret);
    result = hal::Err::InvalidArgument;
  } else if ((ret = mbedtls_x509write_csr_set_extension(
                  &csr, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                  reinterpret_cast<const unsigned char*>(san.data()), san.size())) != 0) {
    *error = mbed_error("subjectAltName", ret);
    result = hal::Err::Io;
  } else {
    std::vector<unsigned char> buf(4096);
    ret = mbedtls_x509write_csr_pem(&csr, buf.data(), buf.size(), mbedtls_ctr_drbg_random, rng.ctx());
    if (ret != 0) {
      *error = mbed_error("writing the CSR", ret);
      result = hal::Err::Io;
    } else {
      csr_pem->assign(reinterpret_cast<const char*>(buf.data()));
    }
  }
  mbedtls_x509write_csr_free(&csr);
  return result;
}

hal::Err read_csr(const std::string& csr_text, CsrInfo* info, std::string* error) {
  mbedtls_x509_csr csr;
  mbedtls_x509_csr_init(&csr);
  struct Free {
    mbedtls_x509_csr* c;
    ~Free() { mbedtls_x509_csr_free(c); }
  } free_csr{&csr};
  const bool pem = csr_text.find("-----BEGIN") != std::string::npos;
  int ret = mbedtls_x509_csr_parse(&csr, reinterpret_cast<const unsigned char*>(csr_text.c_str()),
                                   csr_text.size() + (pem ? 1 : 0));
  if (ret != 0) {
    *error = mbed_error("not a certificate signing request", ret);
    return hal::Err::InvalidArgument;
  }
  const mbedtls_md_info_t* md = mbedtls_md_info_from_type(csr.sig_md);
  unsigned char hash[MBEDTLS_MD_MAX_SIZE];
  if (md == nullptr || mbedtls_md(md, csr.cri.p, csr.cri.len, hash) != 0 ||
      mbedtls_pk_verify_ext(csr.sig_pk, csr.sig_opts, &csr.pk, csr.sig_md, hash, mbedtls_md_get_size(md), csr.sig.p,
                            csr.sig.len) != 0) {
    *error = "the CSR's signature does not verify";
    return hal::Err::InvalidArgument;
  }
  info->subject = dn_string(&csr.subject);
  info->jid.clear();
  bool malformed = false;
  unsigned char* ext = nullptr;
  const unsigned char* ext_end = nullptr;
  if (csr_extensions(csr.cri, &ext, &ext_end, &malformed)) {
    unsigned char* san = nullptr;
    size_t san_len = 0;
    if (find_extension(ext, ext_end, kSanOid, sizeof kSanOid, &san, &san_len, &malformed)) {
      const hal::Err e = xmpp_addr_from_san(san, san_len, &info->jid);
      if (e == hal::Err::Corrupt) malformed = true;
    }
  }
  if (malformed) {
    *error = "the CSR's extensions are malformed";
    return hal::Err::InvalidArgument;
  }
  unsigned char buf[256];
  ret = mbedtls_pk_write_pubkey_der(&csr.pk, buf, sizeof buf);
  if (ret <= 0) {
    *error = "the CSR's public key cannot be encoded";
    return hal::Err::InvalidArgument;
  }
  info->pubkey_der.assign(reinterpret_cast<const char*>(buf + sizeof buf - ret), static_cast<size_t>(ret));
  return hal::Err::Ok;
}

hal::Err read_cert(const std::string& pem, CertInfo* info, std::string* error) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  struct Free {
    mbedtls_x509_crt* c;
    ~Free() { mbedtls_x509_crt_free(c); }
  } free_crt{&crt};
  const bool is_pem = pem.find("-----BEGIN") != std::string::npos;
  int ret = is_pem ? mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1)
                   : mbedtls_x509_crt_parse_der(&crt, reinterpret_cast<const unsigned char*>(pem.data()), pem.size());
  if (ret < 0 || crt.raw.p == nullptr) {
    *error = mbed_error("not a certificate", ret < 0 ? ret : -1);
    return hal::Err::InvalidArgument;
  }
  info->subject = dn_string(&crt.subject);
  info->issuer = dn_string(&crt.issuer);
  char serial[128];
  const int n = mbedtls_x509_serial_gets(serial, sizeof serial, &crt.serial);
  info->serial = n < 0 ? std::string() : std::string(serial, static_cast<size_t>(n));
  info->not_before = x509_time(crt.valid_from);
  info->not_after = x509_time(crt.valid_to);
  info->ca = crt.ca_istrue != 0;
  info->jid.clear();
  if (crt.v3_ext.p != nullptr) {
    bool malformed = false;
    unsigned char* san = nullptr;
    size_t san_len = 0;
    if (find_extension(crt.v3_ext.p, crt.v3_ext.p + crt.v3_ext.len, kSanOid, sizeof kSanOid, &san, &san_len,
                       &malformed)) {
      (void)xmpp_addr_from_san(san, san_len, &info->jid);
    }
  }
  unsigned char buf[256];
  ret = mbedtls_pk_write_pubkey_der(&crt.pk, buf, sizeof buf);
  if (ret > 0) info->pubkey_der.assign(reinterpret_cast<const char*>(buf + sizeof buf - ret), static_cast<size_t>(ret));
  return hal::Err::Ok;
}

hal::Err public_key_der(const std::string& key_pem, std::string* der) {
  Pk key;
  if (!parse_private_key(key_pem, &key.pk)) return hal::Err::InvalidArgument;
  unsigned char buf[256];
  const int ret = mbedtls_pk_write_pubkey_der(&key.pk, buf, sizeof buf);
  if (ret <= 0) return hal::Err::InvalidArgument;
  der->assign(reinterpret_cast<const char*>(buf + sizeof buf - ret), static_cast<size_t>(ret));
  return hal::Err::Ok;
}

std::string fingerprint(const std::string& pubkey_der) {
  unsigned char digest[32];
  if (mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(pubkey_der.data()), pubkey_der.size(), digest, 0) !=
      0) {
    return std::string();
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

int64_t days_left(int64_t not_after, int64_t now) {
  const int64_t d = not_after - now;
  return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

int64_t unix_time(int year, int month, int day, int hour, int minute, int second) {
  // Howard Hinnant's days_from_civil.
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = (month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

std::string iso8601(int64_t t) {
  char buf[64];
  const size_t n = format_iso8601(t, buf, sizeof buf);
  return std::string(buf, n);
}

size_t format_iso8601(int64_t t, char* out, size_t cap) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  const int64_t secs = t - days * 86400;
  // civil_from_days
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[128];
  const int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                              static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                              static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                              static_cast<long long>(secs % 60));
  if (n <= 0 || static_cast<size_t>(n) >= cap) return 0;
  std::memcpy(out, buf, static_cast<size_t>(n) + 1);
  return static_cast<size_t>(n);
}

}  // namespace identity
}  // namespace agent
