#include "agent/description.hpp"
#include "agent/desired.hpp"

#include "agent/identity.hpp"

#include <cstdio>
#include <cstring>

#include "agent/senml.hpp"
#include "agent/xml_text.hpp"
#include "text_writer.hpp"

namespace agent {
namespace {

// A formatted value (drv::Value text is at most 32 bytes; numbers far less).
constexpr size_t kValueTextBound = 48;

const char* str(const char* s) { return s != nullptr ? s : ""; }

/// Calls fn(device_name, verb, error) for every problem, in a stable order:
/// failed inits first, then failed samples.
template <typename Fn>
void for_each_problem(const DeviceFacts& f, Fn&& fn) {
  for (size_t i = 0; i < f.failed_count && f.failed_devices != nullptr; ++i) {
    fn(str(f.failed_devices[i].name), "failed", f.failed_devices[i].error);
  }
  if (f.registry == nullptr) return;
  for (size_t i = 0; i < f.registry->device_count(); ++i) {
    const hal::Err e = f.registry->last_sample_error(i);
    if (e != hal::Err::Ok) fn(f.registry->device(i).name(), "read failed", e);
  }
}

size_t channel_count(const DeviceFacts& f) { return f.registry != nullptr ? f.registry->channel_count() : 0; }

}  // namespace

const char* health_name(Health h) {
  switch (h) {
    case Health::Degraded: return "degraded";
    case Health::Maintenance: return "maintenance";
    case Health::Healthy: break;
  }
  return "healthy";
}

HealthReport assess_health(const DeviceFacts& facts) {
  HealthReport r;
  for_each_problem(facts, [&r](const char* name, const char* verb, hal::Err e) {
    if (r.problem_count == 0) {
      std::snprintf(r.problem, sizeof r.problem, "%s %s: %s", name, verb, hal::err_name(e));
    }
    ++r.problem_count;
  });
  if (facts.storage_problem != nullptr) {
    if (r.problem_count == 0) std::snprintf(r.problem, sizeof r.problem, "%s", facts.storage_problem);
    ++r.problem_count;
  }
  if (r.problem_count > 0) r.health = Health::Degraded;
  if (facts.maintenance != nullptr) {
    r.health = Health::Maintenance;
    // The maintenance reason leads; device problems are still counted.
    std::snprintf(r.problem, sizeof r.problem, "%s", facts.maintenance);
    ++r.problem_count;
  }
  if (r.problem_count > 1) {
    const size_t len = std::strlen(r.problem);
    char more[32];
    const int n = std::snprintf(more, sizeof more, " (+%zu more)", r.problem_count - 1);
    // Keep the suffix visible even if the first problem is long.
    const size_t keep = sizeof r.problem - 1 - static_cast<size_t>(n);
    std::snprintf(r.problem + (len < keep ? len : keep), sizeof r.problem - (len < keep ? len : keep), "%s",
                  more);
  }
  return r;
}

hal::Result<size_t> format_status_line(char* buf, size_t cap, const DeviceFacts& facts,
                                       const HealthReport& report) {
  detail::TextWriter w(buf, cap);
  w.put(str(facts.board));
  w.put(" board, xiot ");
  w.put(str(facts.firmware));
  w.put(", ");
  const size_t n = channel_count(facts);
  w.put_uint(n);
  w.put(n == 1 ? " channel" : " channels");
  if (facts.dropped_readings > 0) {
    w.put(", ");
    w.put_uint(facts.dropped_readings);
    w.put(facts.dropped_readings == 1 ? " reading dropped" : " readings dropped");
  }
  if (facts.power_cut_lost > 0) {
    w.put(", up to ");
    w.put_uint(facts.power_cut_lost);
    w.put(facts.power_cut_lost == 1 ? " reading lost in a power cut" : " readings lost in a power cut");
  }
  if (facts.cert_not_after != 0 && facts.cert_days_left < 0) {
    w.put(", certificate expired");
  } else if (facts.cert_not_after != 0 && facts.cert_days_left < static_cast<int64_t>(facts.cert_warn_days)) {
    w.put(", certificate expires in ");
    w.put_uint(static_cast<uint64_t>(facts.cert_days_left));
    w.put(facts.cert_days_left == 1 ? " day" : " days");
  }
  if (report.health != Health::Healthy) {
    w.put(", ");
    w.put(health_name(report.health));
    if (report.problem[0] != '\0') {
      w.put(": ");
      w.put(report.problem);
    }
  }
  return w.finish();
}

hal::Result<size_t> format_device_description(char* buf, size_t cap, const DeviceFacts& facts,
                                              const HealthReport& report) {
  if (facts.board == nullptr || facts.firmware == nullptr || facts.boot_id == nullptr) {
    return hal::Err::InvalidArgument;
  }
  detail::TextWriter w(buf, cap);
  w.put("<device xmlns='");
  w.put(kDeviceXmlns);
  w.put("' board='");
  w.put_escaped(facts.board);
  w.put("' firmware='");
  w.put_escaped(facts.firmware);
  w.put("' boot-id='");
  w.put_escaped(facts.boot_id);
  w.put("' health='");
  w.put(health_name(report.health));
  if (facts.power_cut_lost > 0) {
    w.put("' power-cut-lost='");
    w.put_uint(facts.power_cut_lost);
  }
  if (facts.cert_not_after != 0) {
    char when[32];
    if (identity::format_iso8601(facts.cert_not_after, when, sizeof when) > 0) {
      w.put("' cert-expires='");
      w.put(when);
    }
    w.put("' cert-days-left='");
    if (facts.cert_days_left < 0) w.put_char('-');
    w.put_uint(static_cast<uint64_t>(facts.cert_days_left < 0 ? -facts.cert_days_left : facts.cert_days_left));
  }
  w.put("'>");
  if (facts.registry != nullptr) {
    size_t k = 0;  // registry channel index, for report_policies
    for (size_t d = 0; d < facts.registry->device_count(); ++d) {
      const drv::Device& dev = facts.registry->device(d);
      for (size_t c = 0; c < dev.channel_count(); ++c, ++k) {
        const drv::ChannelSpec& spec = dev.channel(c);
        w.put("<channel name='");
        w.put_escaped(dev.name());
        w.put_char('.');
        w.put_escaped(spec.quantity);
        w.put("' kind='");
        w.put(drv::kind_name(spec.kind));
        w.put_char('\'');
        if (spec.unit != nullptr && spec.unit[0] != '\0') {
          w.put(" unit='");
          w.put_escaped(spec.unit);
          w.put_char('\'');
        }
        w.put(" type='");
        w.put(drv::type_name(spec.type));
        w.put_char('\'');
        // The report policy; absent = "interval" (the default, and what a
        // device node said before policies existed).
        const drv::ReportPolicy policy =
            facts.report_policies != nullptr ? facts.report_policies[k] : drv::ReportPolicy{};
        if (policy.mode != drv::ReportMode::Interval) {
          w.put(" report='");
          w.put(drv::report_mode_name(policy.mode));
          w.put_char('\'');
        }
        if (policy.mode == drv::ReportMode::Deadband) {
          char band[kValueTextBound];
          if (format_decimal(band, sizeof band, policy.deadband_mantissa, policy.deadband_exponent).ok()) {
            w.put(" deadband='");
            w.put(band);
            w.put_char('\'');
          }
        }
        // An actuator's state is reported state: what it was last set to.
        if (spec.kind == drv::ChannelKind::Actuator) {
          const hal::Result<drv::Value> v = dev.get(c);
          char text[kValueTextBound];
          if (v.ok() && format_value_text(text, sizeof text, v.value()).ok()) {
            w.put(" value='");
            w.put_escaped(text);
            w.put_char('\'');
          }
        }
        w.put("/>");
      }
    }
  }
  for_each_problem(facts, [&w](const char* name, const char* verb, hal::Err e) {
    w.put("<problem>");
    w.put_escaped(name);
    w.put_char(' ');
    w.put(verb);
    w.put(": ");
    w.put_escaped(hal::err_name(e));
    w.put("</problem>");
  });
  if (facts.storage_problem != nullptr) {
    w.put("<problem>");
    w.put_escaped(facts.storage_problem);
    w.put("</problem>");
  }
  if (facts.maintenance != nullptr) {
    w.put("<problem>");
    w.put_escaped(facts.maintenance);
    w.put("</problem>");
  }
  if (facts.update_state != nullptr) {
    w.put("<update state='");
    w.put_escaped(facts.update_state);
    w.put("' version='");
    w.put_escaped(str(facts.update_version));
    w.put("' progress='");
    w.put_uint(facts.update_progress);
    w.put("'");
    const char* err = str(facts.update_error);
    if (err[0] != '\0') {
      char cut[kUpdateErrorMax + 1];
      std::snprintf(cut, sizeof cut, "%s", err);
      w.put(" error='");
      w.put_escaped(cut);
      w.put("'");
    }
    w.put("/>");
  }
  if (facts.desired_report != nullptr) w.put(facts.desired_report);  // our own XML (format_desired_report)
  w.put("</device>");
  return w.finish();
}

size_t device_description_bound(const DeviceFacts& facts) {
  size_t n = 128 + 40 + std::strlen(kDeviceXmlns);  // fixed element and attribute text (power-cut-lost too)
  // <update/>: its texts change after the buffer is sized, so their maxima.
  n += 96 + 6 * (24 + 40 + kUpdateErrorMax);
  n += xml_escaped_len(str(facts.board)) + xml_escaped_len(str(facts.firmware)) +
       xml_escaped_len(str(facts.boot_id));
  if (facts.registry != nullptr) {
    for (size_t d = 0; d < facts.registry->device_count(); ++d) {
      const drv::Device& dev = facts.registry->device(d);
      const size_t name = xml_escaped_len(dev.name());
      for (size_t c = 0; c < dev.channel_count(); ++c) {
        const drv::ChannelSpec& spec = dev.channel(c);
        n += 80 + name + xml_escaped_len(spec.quantity) + xml_escaped_len(str(spec.unit));
        n += 40 + kValueTextBound;  // report='on_change' or report='deadband' deadband='...'

        if (spec.kind == drv::ChannelKind::Actuator) n += 10 + 6 * kValueTextBound;
      }
    }
  }
  for_each_problem(facts, [&n](const char* name, const char*, hal::Err) {
    n += 64 + xml_escaped_len(name);
  });
  if (facts.maintenance != nullptr) n += 32 + xml_escaped_len(facts.maintenance);
  // The storage problem comes and goes after start: room for any short line.
  n += 32 + 6 * 64;
  // cert-expires='YYYY-MM-DDTHH:MM:SSZ' cert-days-left='-N' (any time, any count).
  n += 80;
  n += kDesiredReportMax;  // the <desired/> report comes and goes after start
  return n;
}

}  // namespace agent
