// See boards/report.hpp and boards/README.md "Reporting".
#include "boards/report.hpp"

#include <cmath>
#include <cstring>

#include "json/reader.hpp"

namespace boards {
namespace detail {

namespace {

constexpr const char* kPolicy = "\"interval\", \"on_change\" or {\"deadband\": X}";
constexpr const char* kReport =
    "\"interval\", \"on_change\", {\"deadband\": X} or an object of those by quantity";
constexpr double kMaxDeadband = 1e9;
constexpr int kMaxFractionDigits = 6;

/// X (a JSON number, 0..1e9, at most 6 fraction digits) as mantissa and
/// decimal exponent, so the agent compares in integers.
bool read_deadband(json::Value band, drv::ReportPolicy* out) {
  double v = 0;
  if (!band.number(&v, 0, kMaxDeadband, json::kRequired)) return false;
  double scale = 1;
  for (int k = 0; k <= kMaxFractionDigits; ++k, scale *= 10) {
    // Integral within the double's own rounding (a few ulps), so 0.3 is
    // {3, -1} although 0.3 * 10 is 3.0000000000000004.
    const double x = v * scale;
    const double m = std::round(x);
    if (std::fabs(x - m) <= std::fmax(1e-8, std::fabs(x) * 1e-15)) {
      *out = drv::ReportPolicy::deadband(static_cast<int64_t>(m), static_cast<int8_t>(-k));
      return true;
    }
  }
  return band.expected("a number with at most 6 fraction digits");
}

/// One policy: "interval" | "on_change" | {"deadband": X}.
bool read_policy(json::Value v, drv::ReportPolicy* out, const char* expected) {
  if (v.is_string()) {
    if (std::strcmp(v.c_str(), "interval") == 0) {
      *out = drv::ReportPolicy::interval();
      return true;
    }
    if (std::strcmp(v.c_str(), "on_change") == 0) {
      *out = drv::ReportPolicy::on_change();
      return true;
    }
    return v.expected(expected);
  }
  if (!v.is_object() || v["deadband"].missing()) return v.expected(expected);
  static const char* const kKeys[] = {"deadband"};
  return v.object(kKeys) && read_deadband(v["deadband"], out);
}

}  // namespace

bool parse_report(json::Value report, DeviceSpec* dev) {
  if (report.missing()) return true;
  // A policy for every channel: a string, or the one object with "deadband".
  if (report.is_string() || (report.is_object() && !report["deadband"].missing())) {
    ReportSpec r;
    if (!read_policy(report, &r.policy, kReport)) return false;
    dev->report.push_back(r);
    return true;
  }
  if (!report.is_object()) return report.expected(kReport);
  if (!report.object_any_keys()) return false;
  return report.each([dev](json::Value q) {
    ReportSpec r;
    r.quantity = q.key();
    if (!read_policy(q, &r.policy, kPolicy)) return false;
    dev->report.push_back(r);
    return true;
  });
}

std::string report_problem(const DeviceSpec& d, const drv::Device& dev) {
  for (const ReportSpec& r : d.report) {
    const std::string where = r.quantity.empty() ? "report" : "report." + r.quantity;
    bool found = r.quantity.empty();
    for (size_t c = 0; c < dev.channel_count(); ++c) {
      const drv::ChannelSpec& ch = dev.channel(c);
      if (!r.quantity.empty() && r.quantity != ch.quantity) continue;
      found = true;
      if (r.policy.mode == drv::ReportMode::Deadband && ch.type != drv::ValueType::Numeric) {
        return where + ": a deadband needs a numeric channel (" + ch.quantity + " is not; use \"on_change\")";
      }
    }
    if (!found) {
      std::string has;
      for (size_t c = 0; c < dev.channel_count(); ++c) has += std::string(c ? " " : "") + dev.channel(c).quantity;
      return where + ": no such channel (" + d.name + " has: " + has + ")";
    }
  }
  return "";
}

}  // namespace detail

drv::ReportPolicy report_policy(const DeviceSpec& d, const char* quantity) {
  drv::ReportPolicy p;
  for (const ReportSpec& r : d.report) {
    if (r.quantity.empty()) p = r.policy;  // the device's policy; a per-quantity rule wins
  }
  for (const ReportSpec& r : d.report) {
    if (r.quantity == quantity) p = r.policy;
  }
  return p;
}

std::vector<drv::ReportPolicy> report_policies(Board& board) {
  std::vector<drv::ReportPolicy> out;
  drv::Registry& reg = board.registry();
  for (size_t i = 0; i < reg.device_count(); ++i) {
    const drv::Device& dev = reg.device(i);
    const DeviceSpec* spec = nullptr;
    for (const DeviceSpec& d : board.spec().devices) {
      if (d.name == dev.name()) spec = &d;
    }
    for (size_t c = 0; c < dev.channel_count(); ++c) {
      out.push_back(spec != nullptr ? report_policy(*spec, dev.channel(c).quantity) : drv::ReportPolicy{});
    }
  }
  return out;
}

}  // namespace boards
