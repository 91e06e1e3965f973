// `read` (viewer): completes at once with a result form, one field per
// channel of every device, each sampled once (docs/commands.md "read").
// Also the chat's `read` and `read <channel>` (CommandRouter::read_all and
// read_channel).
#include <cstdio>

#include "agent/commands.hpp"
#include "agent/senml.hpp"
#include "stage.hpp"

namespace agent {
namespace cmd {

namespace {

/// Samples every device once and visits every channel in registry order.
void visit_readings(drv::Registry& registry, ReadingVisitor visit, void* ctx) {
  (void)registry.sample_all();
  for (size_t i = 0; i < registry.device_count(); ++i) {
    const drv::Device& d = registry.device(i);
    const hal::Err sampled = registry.last_sample_error(i);
    for (size_t c = 0; c < d.channel_count(); ++c) {
      char name[kChannelNameMax];
      if (!format_channel_name(name, sizeof name, d, c).ok()) continue;  // names are <= 31+1+quantity
      ChannelReading r{name, &d.channel(c), &d, sampled, sampled, drv::Value()};
      if (sampled == hal::Err::Ok) {
        const hal::Result<drv::Value> v = d.get(c);
        r.error = v.error();
        if (v.ok()) r.value = v.value();
      }
      visit(ctx, r);
    }
  }
}

struct ReadCollector {
  CommandResponse* out;
  size_t total;
  size_t failed;
  const drv::Device* noted;  // last device whose sample failure got a note
  char first_problem[96];
};

void collect_reading(void* ctx, const ChannelReading& r) {
  auto* c = static_cast<ReadCollector*>(ctx);
  Form& f = c->out->form;
  ++c->total;
  char label[kChannelNameMax + 24];
  if (r.spec->unit != nullptr && r.spec->unit[0] != '\0') {
    std::snprintf(label, sizeof label, "%s (%s)", r.name, r.spec->unit);
  } else {
    std::snprintf(label, sizeof label, "%s", r.name);
  }
  const FieldType type = r.spec->type == drv::ValueType::Boolean ? FieldType::Boolean : FieldType::TextSingle;
  (void)f.add_field(type, r.name, label);
  if (r.error == hal::Err::Ok) {
    char text[kValueTextMax];
    if (format_value_text(text, sizeof text, r.value).ok()) {
      (void)f.add_value(text);
      return;
    }
  }
  // The field says what went wrong; it has no value.
  const hal::Err e = r.error != hal::Err::Ok ? r.error : hal::Err::Overflow;
  char desc[64];
  std::snprintf(desc, sizeof desc, "read failed: %s", hal::err_name(e));
  (void)f.set_desc(desc);
  if (c->failed++ == 0) {
    std::snprintf(c->first_problem, sizeof c->first_problem, "%s: %s", r.name, hal::err_name(e));
  }
  if (r.sample_error != hal::Err::Ok) {
    if (c->noted != r.device) {
      c->out->add_note(NoteType::Warn, "%s: read failed: %s", r.device->name(), hal::err_name(e));
      c->noted = r.device;
    }
  } else {
    c->out->add_note(NoteType::Warn, "%s: read failed: %s", r.name, hal::err_name(e));
  }
}

void execute(const CommandCall& call, CommandResponse* out) {
  const size_t channels = call.registry.channel_count();
  if (channels > kFormMaxFields) {
    fail(out, StanzaCondition::ResourceConstraint, CommandCondition::None,
         "%zu channels do not fit one form (at most %zu)", channels, kFormMaxFields);
    return;
  }
  Form& f = out->form;
  f.reset(FormType::Result);
  (void)f.set_title("Readings");
  ReadCollector c{out, 0, 0, nullptr, {}};
  visit_readings(call.registry, collect_reading, &c);
  if (!form_fits(out)) return;
  if (c.total > 0 && c.failed == c.total) {
    fail(out, StanzaCondition::InternalServerError, CommandCondition::None,
         "no channel could be read (%s)", c.first_problem);
    return;
  }
  if (c.total == 0) out->add_note(NoteType::Info, "this device has no channels");
  out->has_form = true;
  out->status = CommandStatus::Completed;
}

}  // namespace

extern const CommandInfo kReadCommand;  // listed in table.cpp
const CommandInfo kReadCommand = {
    "read", "Read sensors", Role::Viewer,
    /*stages=*/0, execute, /*precheck=*/nullptr, /*next=*/nullptr, /*prev=*/nullptr, /*complete=*/nullptr,
};

}  // namespace cmd

bool CommandRouter::read_all(const char* from, ReadingVisitor visit, void* ctx, CommandError* err) {
  if (!allowed(from, Role::Viewer, "read", err)) return false;
  cmd::visit_readings(registry_, visit, ctx);
  return true;
}

bool CommandRouter::read_channel(const char* from, const char* channel, drv::Value* value, CommandError* err) {
  if (!allowed(from, Role::Viewer, "read", err)) return false;
  const hal::Result<drv::ChannelRef> found = registry_.find(channel);
  if (!found.ok()) {
    cmd::set_error(err, StanzaCondition::ItemNotFound, CommandCondition::None, "unknown channel '%.64s'",
                   cmd::nz(channel));
    return false;
  }
  drv::Device& d = *found.value().device;
  // Only this channel's device is sampled (one bus burst), not the board.
  hal::Err e = d.sample();
  if (e == hal::Err::Ok) {
    const hal::Result<drv::Value> v = d.get(found.value().index);
    if (v.ok()) {
      *value = v.value();
      return true;
    }
    e = v.error();
  }
  cmd::set_error(err, StanzaCondition::InternalServerError, CommandCondition::None, "%.64s: read failed: %s",
                 channel, hal::err_name(e));
  return false;
}

}  // namespace agent
