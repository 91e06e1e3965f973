// `set` (operator): two stages. Stage 1 chooses an actuator channel and may
// already carry the value (complete); `next` shows stage 2, the channel's
// current value, and `prev` goes back (docs/commands.md "set"). Also the
// chat's `set <channel> <value>` (CommandRouter::set_channel).
#include <cstdio>
#include <cstring>

#include "agent/commands.hpp"
#include "agent/log.hpp"
#include "agent/senml.hpp"
#include "stage.hpp"

namespace agent {
namespace cmd {

namespace {

constexpr uint8_t kChooseStage = 1;
constexpr uint8_t kValueStage = 2;

bool resolve_actuator(const drv::Registry& registry, const char* channel, drv::ChannelRef* ref,
                      CommandError* err) {
  if (channel == nullptr || channel[0] == '\0') {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "channel: required");
    return false;
  }
  const hal::Result<drv::ChannelRef> found = registry.find(channel);
  if (!found.ok()) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "channel: unknown channel '%.64s'",
              channel);
    return false;
  }
  if (found.value().spec().kind != drv::ChannelKind::Actuator) {
    // A sensor is not among the list-single options: a bad payload, as any
    // other value outside the list (docs/commands.md).
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
              "channel: %.64s is a sensor and cannot be set", channel);
    return false;
  }
  *ref = found.value();
  return true;
}

/// `value_text` as a value of the channel's type; false with *err
/// (bad-payload naming the channel `name`).
bool parse_value(const drv::ChannelSpec& spec, const char* name, const char* value_text, drv::Value* out,
                 CommandError* err) {
  if (value_text == nullptr) {
    set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "value: required");
    return false;
  }
  drv::Value v;
  switch (spec.type) {
    case drv::ValueType::Boolean: {
      const hal::Result<bool> b = parse_loose_bool(value_text);
      if (!b.ok()) {
        set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
                  "value: '%.32s' is not a boolean for %s (use true/false, 1/0 or on/off)", value_text, name);
        return false;
      }
      v = drv::Value::boolean(b.value());
      break;
    }
    case drv::ValueType::Numeric: {
      const hal::Result<drv::Value> n = parse_decimal(value_text);
      if (!n.ok()) {
        set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
                  n.error() == hal::Err::Overflow ? "value: '%.32s' is out of range for %s"
                                                  : "value: '%.32s' is not a number (for %s)",
                  value_text, name);
        return false;
      }
      v = n.value();
      break;
    }
    case drv::ValueType::String: {
      const size_t len = std::strlen(value_text);
      if (len >= sizeof v.text) {
        set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
                  "value: longer than %zu bytes (for %s)", sizeof v.text - 1, name);
        return false;
      }
      v.type = drv::ValueType::String;
      std::memcpy(v.text, value_text, len + 1);
      break;
    }
  }
  *out = v;
  return true;
}

/// *out = m * 10^k; false on overflow (k >= 0).
bool scale_up(int64_t m, int k, int64_t* out) {
  for (; k > 0; --k) {
    if (__builtin_mul_overflow(m, int64_t{10}, &m)) return false;
  }
  *out = m;
  return true;
}

/// `a` and `b` are the same value: same type, and numerically equal as exact
/// decimals (21.5 equals 21.50), no floating point.
bool same_value(const drv::Value& a, const drv::Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case drv::ValueType::Boolean: return a.flag == b.flag;
    case drv::ValueType::String: return std::strcmp(a.text, b.text) == 0;
    case drv::ValueType::Numeric: break;
  }
  const int e = a.exponent < b.exponent ? a.exponent : b.exponent;
  int64_t x = 0;
  int64_t y = 0;
  if (!scale_up(a.mantissa, a.exponent - e, &x) || !scale_up(b.mantissa, b.exponent - e, &y)) return false;
  return x == y;
}

/// Parses `value_text`, drives the channel with Device::set and publishes
/// telemetry at once. With `only_if_different` a channel whose last value
/// (Device::get, no bus traffic) already equals the parsed value is left
/// alone: no set, no publish, *changed false (desired state re-applied).
bool apply_set(CommandHost& host, const char* from, drv::Device& dev, size_t channel, const char* value_text,
               drv::Value* applied, CommandError* err, bool only_if_different = false, bool* changed = nullptr) {
  char name[kChannelNameMax];
  if (!format_channel_name(name, sizeof name, dev, channel).ok()) name[0] = '\0';
  drv::Value v;
  if (changed != nullptr) *changed = false;
  if (!parse_value(dev.channel(channel), name, value_text, &v, err)) return false;
  if (only_if_different) {
    const hal::Result<drv::Value> now = dev.get(channel);
    if (now.ok() && same_value(now.value(), v)) {
      *applied = v;
      return true;
    }
  }
  const hal::Err e = dev.set(channel, v);
  switch (e) {
    case hal::Err::Ok: {
      char text[kValueTextMax];
      if (!format_value_text(text, sizeof text, v).ok()) text[0] = '\0';
      XLOG_INFO(kArea, "%.128s set %s to %s", nz(from), name, text);
      host.publish_telemetry_now(dev, channel);
      *applied = v;
      if (changed != nullptr) *changed = true;
      return true;
    }
    case hal::Err::InvalidArgument:
      set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload,
                "value: '%.32s' is out of range for %s", value_text, name);
      return false;
    case hal::Err::ReadOnly:
    case hal::Err::NotSupported:
      set_error(err, StanzaCondition::BadRequest, CommandCondition::BadPayload, "channel: %s cannot be set (%s)",
                name, hal::err_name(e));
      return false;
    default: break;
  }
  XLOG_WARN(kArea, "set %s failed: %s", name, hal::err_name(e));
  set_error(err, StanzaCondition::InternalServerError, CommandCondition::None, "%s: set failed: %s", name,
            hal::err_name(e));
  return false;
}

/// Stage 1: the actuator channels, `preselect` chosen (may be null).
void show_choose(const drv::Registry& registry, const char* preselect, CommandResponse* out) {
  Form& f = out->form;
  f.reset(FormType::Form);
  (void)f.set_title("Set an actuator");
  (void)f.set_instructions(
      "Choose a channel and a value (true/false, on/off or a number), then complete. "
      "Next shows the channel's current value first.");
  (void)f.add_field(FieldType::ListSingle, "channel", "Channel", true);
  if (preselect != nullptr && preselect[0] != '\0') (void)f.add_value(preselect);
  for (size_t i = 0; i < registry.device_count(); ++i) {
    const drv::Device& d = registry.device(i);
    for (size_t c = 0; c < d.channel_count(); ++c) {
      const drv::ChannelSpec& spec = d.channel(c);
      if (spec.kind != drv::ChannelKind::Actuator) continue;
      char name[kChannelNameMax];
      if (!format_channel_name(name, sizeof name, d, c).ok()) continue;
      char label[kChannelNameMax + 24];
      std::snprintf(label, sizeof label, "%s (%s)", name, drv::type_name(spec.type));
      (void)f.add_option(label, name);
    }
  }
  // Required: `complete` (the default action) needs it; `next` ignores it.
  (void)f.add_field(FieldType::TextSingle, "value", "Value", true);
  show_form(out, kActionNext | kActionComplete);
}

/// Stage 2: the chosen channel's current value, ready to be changed.
void show_value(const drv::ChannelRef& chosen, CommandResponse* out) {
  const drv::Device& d = *chosen.device;
  const drv::ChannelSpec& spec = d.channel(chosen.index);
  char name[kChannelNameMax];
  if (!format_channel_name(name, sizeof name, d, chosen.index).ok()) name[0] = '\0';
  // get() only converts the device's last snapshot (an output's last level):
  // no bus traffic just to show a form.
  const hal::Result<drv::Value> current = d.get(chosen.index);
  char now[kValueTextMax] = {};
  const bool known = current.ok() && format_value_text(now, sizeof now, current.value()).ok();
  Form& f = out->form;
  f.reset(FormType::Form);
  char title[kChannelNameMax + 8];
  std::snprintf(title, sizeof title, "Set %s", name);
  (void)f.set_title(title);
  char fixed[kChannelNameMax + kValueTextMax + 32];
  if (known) {
    std::snprintf(fixed, sizeof fixed, "%s is now %s%s%s", name, now, spec.unit[0] != '\0' ? " " : "",
                  spec.unit);
  } else {
    std::snprintf(fixed, sizeof fixed, "%s: current value unknown (%s)", name,
                  hal::err_name(current.ok() ? hal::Err::Overflow : current.error()));
  }
  (void)f.add_field(FieldType::Fixed, nullptr);
  (void)f.add_value(fixed);
  char label[kChannelNameMax + 24];
  if (spec.unit[0] != '\0') {
    std::snprintf(label, sizeof label, "%s (%s)", name, spec.unit);
  } else {
    std::snprintf(label, sizeof label, "%s", name);
  }
  if (spec.type == drv::ValueType::Boolean) {
    (void)f.add_field(FieldType::Boolean, "value", label, true);
    if (known) (void)f.add_value(current.value().flag ? "1" : "0");
  } else {
    (void)f.add_field(FieldType::TextSingle, "value", label, true);
    if (known) (void)f.add_value(now);
  }
  show_form(out, kActionPrev | kActionComplete);
}

bool has_nothing_to_set(const CommandCall& call, CommandResponse* out) {
  for (size_t i = 0; i < call.registry.device_count(); ++i) {
    const drv::Device& d = call.registry.device(i);
    for (size_t c = 0; c < d.channel_count(); ++c) {
      if (d.channel(c).kind == drv::ChannelKind::Actuator) return false;
    }
  }
  out->add_note(NoteType::Warn, "this device has no actuator channels");
  return true;
}

void execute(const CommandCall& call, CommandResponse* out) { show_choose(call.registry, nullptr, out); }

void next(const CommandCall& call, CommandResponse* out) {
  drv::ChannelRef ref;
  CommandError e;
  if (!resolve_actuator(call.registry, call.form->value_of("channel"), &ref, &e)) {
    fail_with(out, e);
    return;
  }
  call.state->chosen = ref;
  call.state->stage = kValueStage;
  show_value(ref, out);
}

void prev(const CommandCall& call, CommandResponse* out) {
  char name[kChannelNameMax];
  const drv::ChannelRef& chosen = call.state->chosen;
  if (!format_channel_name(name, sizeof name, *chosen.device, chosen.index).ok()) name[0] = '\0';
  *call.state = CommandStageState();
  call.state->stage = kChooseStage;
  show_choose(call.registry, name, out);
}

void complete(const CommandCall& call, CommandResponse* out) {
  drv::ChannelRef ref;
  CommandError e;
  if (call.state != nullptr && call.state->stage == kValueStage) {
    ref = call.state->chosen;
  } else if (!resolve_actuator(call.registry, call.form->value_of("channel"), &ref, &e)) {
    fail_with(out, e);
    return;
  }
  drv::Value applied;
  if (!apply_set(call.host, call.from, *ref.device, ref.index, call.form->value_of("value"), &applied, &e)) {
    fail_with(out, e);
    return;
  }
  char name[kChannelNameMax];
  char text[kValueTextMax];
  if (!format_channel_name(name, sizeof name, *ref.device, ref.index).ok()) name[0] = '\0';
  if (!format_value_text(text, sizeof text, applied).ok()) text[0] = '\0';
  out->add_note(NoteType::Info, "%s set to %s", name, text);
  out->status = CommandStatus::Completed;
}

}  // namespace

extern const CommandInfo kSetCommand;  // listed in table.cpp
const CommandInfo kSetCommand = {
    "set", "Set an actuator", Role::Operator,
    /*stages=*/kValueStage, execute, has_nothing_to_set, next, prev, complete,
};

}  // namespace cmd

bool CommandRouter::set_channel(const char* from, const char* channel, const char* value_text,
                                drv::Value* applied, CommandError* err) {
  if (!allowed(from, Role::Operator, "set", err)) return false;
  drv::ChannelRef ref;
  if (!cmd::resolve_actuator(registry_, channel, &ref, err)) return false;
  return cmd::apply_set(host_, from, *ref.device, ref.index, value_text, applied, err);
}

bool CommandRouter::desire_channel(const char* from, const char* channel, const char* value_text,
                                   drv::Value* applied, bool* changed, CommandError* err) {
  *changed = false;
  if (!allowed(from, Role::Operator, "set", err)) return false;
  drv::ChannelRef ref;
  if (!cmd::resolve_actuator(registry_, channel, &ref, err)) return false;
  return cmd::apply_set(host_, from, *ref.device, ref.index, value_text, applied, err,
                        /*only_if_different=*/true, changed);
}

}  // namespace agent
