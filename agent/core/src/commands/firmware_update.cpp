// `firmware-update` (owner): a signed update (docs/updates.md). One form:
// manifest (text-multi: the manifest bytes in base64, in lines of at most 255
// characters), signature (base64 DER), transport ("ibb" default, or "url"
// with url). The host verifies the manifest before anything else; a refusal
// is bad-request naming why. Accepted: completed, with the IBB sid and the
// offset to start from (a resumed transfer starts past the staged bytes).
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "agent/commands.hpp"
#include "agent/log.hpp"
#include "stage.hpp"

namespace agent {
namespace cmd {

namespace {

/// The manifest's base64 is at most this long (1500 bytes of manifest).
constexpr size_t kManifestB64Max = 2048;

void execute(const CommandCall&, CommandResponse* out) {
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Firmware update");
  (void)f.set_instructions(
      "A signed manifest (base64, in lines) and its signature. The device checks both, then receives the image "
      "over IBB (answer: sid and offset) or fetches it from the url.");
  (void)f.add_field(FieldType::TextMulti, "manifest", "Manifest (base64)", true);
  (void)f.add_field(FieldType::TextSingle, "signature", "Signature (base64 DER)", true);
  (void)f.add_field(FieldType::ListSingle, "transport", "Transport");
  (void)f.add_value("ibb");
  (void)f.add_option("In-band (XEP-0047)", "ibb");
  (void)f.add_option("URL (HTTP upload slot)", "url");
  (void)f.add_field(FieldType::TextSingle, "url", "Image URL (transport url)");
  show_form(out, kActionComplete);
}

void complete(const CommandCall& call, CommandResponse* out) {
  const FormField* manifest = call.form->find("manifest");
  char joined[kManifestB64Max + 1];
  size_t len = 0;
  if (manifest != nullptr) {
    for (size_t i = 0; i < manifest->value_count(); ++i) {
      const char* v = manifest->value(i);
      const size_t n = std::strlen(v);
      if (len + n > kManifestB64Max) {
        fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "manifest: longer than %zu characters",
             kManifestB64Max);
        return;
      }
      std::memcpy(joined + len, v, n);
      len += n;
    }
  }
  joined[len] = '\0';
  if (len == 0) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "manifest: required");
    return;
  }
  const char* signature = call.form->value_of("signature");
  if (signature == nullptr || signature[0] == '\0') {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "signature: required");
    return;
  }
  const char* transport = call.form->value_of("transport");
  bool url = false;
  if (transport != nullptr && transport[0] != '\0' && std::strcmp(transport, "ibb") != 0) {
    if (std::strcmp(transport, "url") != 0) {
      fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload,
           "transport: '%.32s' is not \"ibb\" or \"url\"", transport);
      return;
    }
    url = true;
  }
  const char* url_value = call.form->value_of("url");
  if (url && (url_value == nullptr || url_value[0] == '\0')) {
    fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "url: required with transport url");
    return;
  }
  FirmwareUpdateRequest req;
  req.from = call.from;
  req.manifest_b64 = joined;
  req.signature_b64 = signature;
  req.url = url;
  req.url_value = url_value != nullptr ? url_value : "";
  FirmwareUpdateAnswer answer;
  call.host.firmware_update(req, &answer);
  using Kind = FirmwareUpdateAnswer::Kind;
  switch (answer.kind) {
    case Kind::Accepted: break;
    case Kind::Refused:
      fail(out, StanzaCondition::BadRequest, CommandCondition::BadPayload, "%s", answer.text);
      return;
    case Kind::Busy:
      fail(out, StanzaCondition::Conflict, CommandCondition::None, "%s", answer.text);
      return;
    case Kind::NotConfigured:
    case Kind::NotImplemented:
      fail(out, StanzaCondition::FeatureNotImplemented, CommandCondition::None, "%s", answer.text);
      return;
    case Kind::Failed:
      fail(out, StanzaCondition::InternalServerError, CommandCondition::None, "%s", answer.text);
      return;
  }
  XLOG_INFO(kArea, "firmware-update from %.60s accepted: %s", call.from, answer.text);
  Form& f = out->form;
  f.reset(FormType::Result);
  (void)f.set_title("Firmware update accepted");
  (void)f.add_field(FieldType::TextSingle, "transport");
  (void)f.add_value(url ? "url" : "ibb");
  (void)f.add_field(FieldType::TextSingle, "sid");
  (void)f.add_value(answer.sid);
  char offset[24];
  std::snprintf(offset, sizeof offset, "%" PRIu64, answer.offset);
  (void)f.add_field(FieldType::TextSingle, "offset");
  (void)f.add_value(offset);
  (void)f.add_field(FieldType::TextSingle, "block-size");
  (void)f.add_value("4096");
  complete_with_form(out);
  out->add_note(NoteType::Info, "%s", answer.text);
}

}  // namespace

extern const CommandInfo kFirmwareUpdateCommand;  // listed in table.cpp
const CommandInfo kFirmwareUpdateCommand = {
    "firmware-update", "Firmware update", Role::Owner,
    /*stages=*/1, execute, /*precheck=*/nullptr, /*next=*/nullptr, /*prev=*/nullptr, complete,
};

}  // namespace cmd
}  // namespace agent
