// The CommandHost the command-driven fuzz targets (fuzz_command, fuzz_desired)
// hand the router: telemetry settings in memory, every other effect a no-op.
#pragma once

#include "agent/commands.hpp"

namespace fuzz {

class FakeCommandHost final : public agent::CommandHost {
 public:
  void publish_telemetry_now(const drv::Device&, size_t) override {}
  agent::TelemetrySettings telemetry_settings() override { return settings; }
  hal::Err reconfigure_telemetry(const agent::TelemetrySettings& s) override {
    settings = s;
    return hal::Err::Ok;
  }
  hal::Err request_reboot(const char*) override { return hal::Err::Ok; }
  void diagnostics(agent::DiagnosticsInfo* out) override { out->uptime_s = 42; }
  agent::TelemetrySettings settings;
};

}  // namespace fuzz
