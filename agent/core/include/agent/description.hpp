// Device health and the device description ("reported state"): the one-line
// presence status and the XML item published on the PEP node urn:xiot:device:0
// (item id "current"). Schema: docs/wire-format.md.
//
//   <device xmlns='urn:xiot:device:0' board='sim' firmware='0.1.0'
//           boot-id='7f3a12cd' health='degraded'>
//     <channel name='env0.temperature' kind='sensor' unit='Cel' type='numeric'/>
//     <channel name='relay0.state' kind='actuator' type='boolean' value='false'/>
//     <problem>env0 failed: no acknowledge</problem>
//   </device>
// (no whitespace between elements on the wire). `unit` is omitted when the
// channel has none; there is one <problem/> per current problem, none when
// healthy. Everything here writes into caller buffers; nothing allocates.
#pragma once

#include <cstddef>

#include "drv/registry.hpp"
#include "drv/report.hpp"
#include "hal/status.hpp"

namespace agent {

/// XML namespace and PEP node of the device description.
constexpr const char* kDeviceXmlns = "urn:xiot:device:0";
constexpr const char* kDeviceNode = "urn:xiot:device:0";
constexpr const char* kDeviceItemId = "current";

enum class Health : uint8_t { Healthy, Degraded, Maintenance };

/// "healthy" | "degraded" | "maintenance".
const char* health_name(Health h);

/// A device from the board file that failed init() and was left out.
struct FailedDevice {
  const char* name;  ///< instance name, "env0"
  hal::Err error;    ///< what init() returned
};

/// What the agent knows about itself. All pointers are borrowed for the call.
struct DeviceFacts {
  const char* board;          ///< board name, "sim"
  const char* firmware;       ///< firmware version, "0.1.0"
  const char* boot_id;        ///< make_boot_id() output
  const drv::Registry* registry;  ///< the live devices; nullptr = none
  const FailedDevice* failed_devices;  ///< devices that failed init (may be nullptr if count 0)
  size_t failed_count;
  /// Non-null while a maintenance operation runs (e.g. "firmware update
  /// running"): health is then Maintenance, whatever else holds.
  const char* maintenance = nullptr;
  /// Non-null while the telemetry journal fails (Outbox::storage_problem(),
  /// e.g. "journal append failed: no space"): a problem, health Degraded.
  const char* storage_problem = nullptr;
  /// Readings lost so far (drop-oldest, docs/journal.md): shown in the status
  /// line when not 0.
  uint64_t dropped_readings = 0;
  /// Readings possibly lost in a power cut before this start (Journal
  /// stats power_cut_lost, an upper bound): in the status line and as the
  /// device element's power-cut-lost attribute when not 0.
  uint64_t power_cut_lost = 0;
  /// Each registry channel's report policy, in registry order (device by
  /// device, channel by channel); nullptr = every channel "interval".
  /// Borrowed for the call.
  const drv::ReportPolicy* report_policies = nullptr;
  /// Signed updates (docs/updates.md): non-null = an `<update state version
  /// progress error/>` child of the device element. `update_state` is
  /// update_state_name(); the error at most kUpdateErrorMax bytes.
  const char* update_state = nullptr;
  const char* update_version = "";
  uint8_t update_progress = 0;
  const char* update_error = "";
  /// The client certificate's notAfter (Unix s); 0 = none (password login).
  /// Then the device element carries cert-expires and cert-days-left, and the
  /// status line says "certificate expires in N days" once fewer than
  /// cert_warn_days remain ("certificate expired" after it).
  /// Desired state (docs/desired-state.md): the `<desired/>` report of the
  /// last desired item (DesiredState::report_xml(), already XML, at most
  /// kDesiredReportMax bytes), appended as is; nullptr or "" = none.
  const char* desired_report = nullptr;
  int64_t cert_not_after = 0;
  int64_t cert_days_left = 0;
  uint32_t cert_warn_days = 30;
};

/// Longest update error text the device node carries (longer is cut).
constexpr size_t kUpdateErrorMax = 160;

struct HealthReport {
  Health health = Health::Healthy;
  /// The first problem, one line, NUL-terminated ("" when healthy), e.g.
  /// "env0 failed: no acknowledge" or "env0 read failed: timeout"; when there
  /// are more, " (+N more)" is appended. Truncated to fit.
  char problem[128] = {};
  /// How many problems there are in total.
  size_t problem_count = 0;
};

/// Maintenance if facts.maintenance is set; Degraded if any device failed
/// init, the registry's last_sample_error of a live device is not Ok, or there
/// is a storage problem; otherwise Healthy.
HealthReport assess_health(const DeviceFacts& facts);

/// One line for presence <status/>, NUL-terminated:
///   "sim board, xiot 0.1.0, 8 channels"
///   "sim board, xiot 0.1.0, 5 channels, degraded: env0 failed: no acknowledge"
///   "sim board, xiot 0.1.0, 8 channels, maintenance: firmware update running"
///   "sim board, xiot 0.1.0, 8 channels, 12 readings dropped"
/// Returns the length. Errors: Overflow (buf holds a truncated line).
hal::Result<size_t> format_status_line(char* buf, size_t cap, const DeviceFacts& facts,
                                       const HealthReport& report);

/// The <device/> element above, NUL-terminated, every attribute and text
/// XML-escaped. Channels in registry order; one <problem/> per failed device
/// and per device whose last sample failed, then the storage problem, then
/// the maintenance reason.
/// Returns the length. Errors: Overflow (see device_description_bound),
/// InvalidArgument (null board/firmware/boot_id).
hal::Result<size_t> format_device_description(char* buf, size_t cap, const DeviceFacts& facts,
                                              const HealthReport& report);

/// An upper bound of format_device_description's output, NUL included.
size_t device_description_bound(const DeviceFacts& facts);

}  // namespace agent
