// `rotate-identity` (owner, a device that logs in with a certificate;
// docs/identity.md "Rotation"). Stage 1 (execute): the device makes a new
// pending key + CSR (IdentityRotator::begin) and shows a form with the CSR
// (text-multi `csr`: the base64 of its DER, in lines of at most 240
// characters) and an empty text-multi `certificate` to fill the same way.
// Complete: the device checks the certificate (signed for the pending key,
// names its JID, valid now) and stores it; it answers completed with the note
// "installed; switching at the next login" and then logs in again with the
// new identity (committed once online, refused → back to the current one).
#include <cstring>

#include "agent/commands.hpp"
#include "agent/log.hpp"
#include "stage.hpp"

namespace agent {
namespace cmd {

namespace {

/// The certificate's base64 (about 1500 bytes of DER).
constexpr size_t kCertB64Max = 2048;
/// The CSR's base64 (a P-256 CSR with its SAN is about 600 characters).
constexpr size_t kCsrB64Max = 1024;
/// Characters per value of the csr/certificate fields.
constexpr size_t kLine = 240;

void answer_error(const IdentityRotationAnswer& a, CommandResponse* out) {
  using Kind = IdentityRotationAnswer::Kind;
  switch (a.kind) {
    case Kind::Ok: return;
    case Kind::PasswordLogin:
      fail(out, StanzaCondition::NotAllowed, CommandCondition::None, "%s", a.text);
      return;
    case Kind::Refused:
      fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s", a.text);
      return;
    case Kind::Failed:
      fail(out, StanzaCondition::InternalServerError, CommandCondition::None, "%s", a.text);
      return;
  }
}

void execute(const CommandCall& call, CommandResponse* out) {
  char csr[kCsrB64Max];
  IdentityRotationAnswer a;
  call.host.rotate_identity_begin(csr, sizeof csr, &a);
  if (a.kind != IdentityRotationAnswer::Kind::Ok) {
    XLOG_WARN(kArea, "rotate-identity from %.60s: %s", call.from, a.text);
    answer_error(a, out);
    return;
  }
  XLOG_INFO(kArea, "rotate-identity from %.60s: %s", call.from, a.text);
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Rotate the device identity");
  (void)f.set_instructions(
      "The device made a new key and this CSR (base64 DER, in lines). Sign it with the fleet CA and send the "
      "certificate (base64 DER, in lines). The device switches at its next login and keeps the current "
      "identity until the new one has logged in.");
  (void)f.add_field(FieldType::TextMulti, "csr", "Certificate signing request (base64 DER)");
  const size_t n = std::strlen(csr);
  char line[kLine + 1];
  for (size_t at = 0; at < n; at += kLine) {
    const size_t len = n - at < kLine ? n - at : kLine;
    std::memcpy(line, csr + at, len);
    line[len] = '\0';
    (void)f.add_value(line);
  }
  (void)f.add_field(FieldType::TextMulti, "certificate", "Signed certificate (base64 DER)", true);
  show_form(out, kActionComplete);
}

void complete(const CommandCall& call, CommandResponse* out) {
  const FormField* cert = call.form->find("certificate");
  char joined[kCertB64Max + 1];
  size_t len = 0;
  if (cert != nullptr) {
    for (size_t i = 0; i < cert->value_count(); ++i) {
      const char* v = cert->value(i);
      if (std::strncmp(v, "-----", 5) == 0) continue;  // PEM armour lines are fine too
      const size_t n = std::strlen(v);
      if (len + n > kCertB64Max) {
        fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "certificate: longer than %zu characters",
             kCertB64Max);
        return;
      }
      std::memcpy(joined + len, v, n);
      len += n;
    }
  }
  joined[len] = '\0';
  if (len == 0) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "certificate: required");
    return;
  }
  IdentityRotationAnswer a;
  call.host.rotate_identity_install(joined, &a);
  if (a.kind != IdentityRotationAnswer::Kind::Ok) {
    XLOG_WARN(kArea, "rotate-identity from %.60s refused: %s", call.from, a.text);
    answer_error(a, out);
    return;
  }
  XLOG_INFO(kArea, "rotate-identity from %.60s: %s", call.from, a.text);
  out->status = CommandStatus::Completed;
  out->add_note(NoteType::Info, "installed; switching at the next login (%s)", a.text);
}

}  // namespace

extern const CommandInfo kRotateIdentityCommand;  // listed in table.cpp
const CommandInfo kRotateIdentityCommand = {
    "rotate-identity", "Rotate the device identity", Role::Owner,
    /*stages=*/1, execute, /*precheck=*/nullptr, /*next=*/nullptr, /*prev=*/nullptr, complete,
};

}  // namespace cmd
}  // namespace agent
