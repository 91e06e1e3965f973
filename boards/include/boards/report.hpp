// The "report" key of a device entry (boards/README.md "Reporting"): how
// each channel reports (drv::ReportPolicy). Parsed with the rest of the board
// file, checked against the driver's channels when the board is built, and
// handed to the telemetry publisher by the runtime.
#pragma once

#include <string>
#include <vector>

#include "boards/board.hpp"
#include "drv/device.hpp"
#include "drv/report.hpp"

namespace json {
class Value;
}  // namespace json

namespace boards {

/// The policy of channel `quantity` of device `d`: its per-quantity rule,
/// else the device-wide one, else Interval.
drv::ReportPolicy report_policy(const DeviceSpec& d, const char* quantity);

/// The policy of every registry channel in registry order (device by device,
/// channel by channel), for TelemetryPublisher::set_report_policies().
std::vector<drv::ReportPolicy> report_policies(Board& board);

namespace detail {

/// Reads `report` (missing: nothing) into dev->report. Errors go to the
/// reader like every other key's (board_parse.cpp).
bool parse_report(json::Value report, DeviceSpec* dev);

/// "" when every rule of d.report fits the device's channels, else the
/// problem in one line: `report.temprature: no such channel (env0 has: ...)`,
/// `report.state: a deadband needs a numeric channel (...)` (board.cpp).
std::string report_problem(const DeviceSpec& d, const drv::Device& dev);

}  // namespace detail
}  // namespace boards
