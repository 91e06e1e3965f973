// boards: the device entry's "report" key (boards/README.md "Reporting"):
// the forms it takes, its exact errors, the check against the driver's
// channels when the board is built, and the policies in registry order.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "boards/board.hpp"
#include "boards/report.hpp"
#include "hal/sim/manual_clock.hpp"

using drv::ReportMode;

namespace {

std::string board_with(const std::string& devices) {
  return R"({"name": "t", "hal": "sim", "buses": [{"name": "i2c0", "type": "i2c"}, {"name": "gpio0", "type": "gpio"}],)"
         R"( "devices": [)" + devices + "]}";
}
const char* const kEnv = R"({"name": "env0", "compatible": "bosch,bme280", "bus": "i2c0", "address": 118)";
const char* const kButton = R"({"name": "button0", "compatible": "xiot,gpio-input", "gpio": "gpio0", "pin": 2)";

/// Parses `text`; returns the error after the file name ("" when it parsed).
std::string parse(const std::string& text, boards::BoardSpec* spec) {
  std::string error;
  if (boards::parse_board_text(text.c_str(), "b.json", spec, &error)) return "";
  return error.rfind("b.json", 0) == 0 ? error.substr(6) : error;
}

TEST(BoardReport, DeviceWideAndPerQuantityForms) {
  boards::BoardSpec spec;
  ASSERT_EQ(parse(board_with(std::string(kEnv) + R"(, "report": {"deadband": 0.25}}, )" + kButton +
                             R"(, "report": "on_change"}, )" +
                             R"({"name": "env1", "compatible": "bosch,bme280", "bus": "i2c0", "address": 119,)"
                             R"( "report": {"temperature": {"deadband": 0.1}, "pressure": "on_change", "humidity": "interval"}})"),
                  &spec),
            "");
  ASSERT_EQ(spec.devices.size(), 3u);
  const drv::ReportPolicy t0 = boards::report_policy(spec.devices[0], "temperature");
  EXPECT_EQ(t0.mode, ReportMode::Deadband);
  EXPECT_EQ(t0.deadband_mantissa, 25);
  EXPECT_EQ(t0.deadband_exponent, -2);
  EXPECT_EQ(boards::report_policy(spec.devices[0], "pressure").mode, ReportMode::Deadband);
  EXPECT_EQ(boards::report_policy(spec.devices[1], "state").mode, ReportMode::OnChange);
  const drv::ReportPolicy t1 = boards::report_policy(spec.devices[2], "temperature");
  EXPECT_EQ(t1.mode, ReportMode::Deadband);
  EXPECT_EQ(t1.deadband_mantissa, 1);
  EXPECT_EQ(t1.deadband_exponent, -1);
  EXPECT_EQ(boards::report_policy(spec.devices[2], "pressure").mode, ReportMode::OnChange);
  EXPECT_EQ(boards::report_policy(spec.devices[2], "humidity").mode, ReportMode::Interval);
}

TEST(BoardReport, DeadbandDigitsAreKeptExactly) {
  boards::BoardSpec spec;
  ASSERT_EQ(parse(board_with(std::string(kEnv) + R"(, "report": {"pressure": {"deadband": 123456.123456}, "humidity": {"deadband": 0.3}}})"),
                  &spec),
            "");
  const drv::ReportPolicy p = boards::report_policy(spec.devices[0], "pressure");
  EXPECT_EQ(p.deadband_mantissa, 123456123456);
  EXPECT_EQ(p.deadband_exponent, -6);
  const drv::ReportPolicy h = boards::report_policy(spec.devices[0], "humidity");
  EXPECT_EQ(h.deadband_mantissa, 3);
  EXPECT_EQ(h.deadband_exponent, -1);
}

TEST(BoardReport, WholeNumberAndZeroDeadbands) {
  boards::BoardSpec spec;
  ASSERT_EQ(parse(board_with(std::string(kEnv) + R"(, "report": {"pressure": {"deadband": 50}, "humidity": {"deadband": 0}}})"),
                  &spec),
            "");
  const drv::ReportPolicy p = boards::report_policy(spec.devices[0], "pressure");
  EXPECT_EQ(p.deadband_mantissa, 50);
  EXPECT_EQ(p.deadband_exponent, 0);
  EXPECT_EQ(boards::report_policy(spec.devices[0], "humidity").deadband_mantissa, 0);
  EXPECT_EQ(boards::report_policy(spec.devices[0], "temperature").mode, ReportMode::Interval);
}

struct BadReport {
  const char* what;
  std::string report;  // the value of "report" on env0
  std::string error;
};

void PrintTo(const BadReport& b, std::ostream* os) { *os << b.what; }

class BoardReportError : public ::testing::TestWithParam<BadReport> {};

TEST_P(BoardReportError, ExactError) {
  boards::BoardSpec spec;
  EXPECT_EQ(parse(board_with(std::string(kEnv) + R"(, "report": )" + GetParam().report + "}"), &spec),
            GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BoardReportError,
    ::testing::Values(
        BadReport{"unknown_mode", R"("sometimes")",
                  R"(: devices[0].report: expected "interval", "on_change", {"deadband": X} or an object of those by quantity, got "sometimes")"},
        BadReport{"number", "3",
                  R"(: devices[0].report: expected "interval", "on_change", {"deadband": X} or an object of those by quantity, got 3)"},
        BadReport{"negative_deadband", R"({"deadband": -1})",
                  ": devices[0].report.deadband: expected a number from 0 to 1000000000, got -1"},
        BadReport{"deadband_text", R"({"deadband": "0.2"})",
                  ": devices[0].report.deadband: expected a number from 0 to 1000000000, got \"0.2\""},
        BadReport{"too_fine", R"({"deadband": 0.0000001})",
                  ": devices[0].report.deadband: expected a number with at most 6 fraction digits, got 1e-07"},
        BadReport{"extra_key", R"({"deadband": 1, "heartbeat": 5})",
                  ": devices[0].report.heartbeat: unknown key (expected one of: deadband)"},
        BadReport{"bad_quantity_policy", R"({"temperature": "often"})",
                  R"(: devices[0].report.temperature: expected "interval", "on_change" or {"deadband": X}, got "often")"},
        BadReport{"duplicate_quantity", R"({"temperature": "on_change", "temperature": "interval"})",
                  ": devices[0].report.temperature: duplicate key"}),
    [](const ::testing::TestParamInfo<BadReport>& i) { return std::string(i.param.what); });

struct Built {
  hal::sim::ManualClock clock;
  std::unique_ptr<boards::Board> board;
  explicit Built(const std::string& text) {
    boards::BoardSpec spec;
    std::string error;
    EXPECT_TRUE(boards::parse_board_text(text.c_str(), "b.json", &spec, &error)) << error;
    board = boards::Board::create(spec, clock, clock, &error);
    EXPECT_NE(board, nullptr) << error;
  }
};

TEST(BoardReport, UnknownQuantityLeavesTheDeviceOut) {
  Built b(board_with(std::string(kEnv) + R"(, "report": {"temprature": "on_change"}}, )" + kButton + "}"));
  ASSERT_EQ(b.board->failed().size(), 1u);
  EXPECT_EQ(b.board->failed()[0].name, "env0");
  EXPECT_EQ(b.board->failed()[0].err, hal::Err::InvalidArgument);
  EXPECT_EQ(b.board->failed()[0].text,
            "report.temprature: no such channel (env0 has: temperature humidity pressure)");
  EXPECT_EQ(b.board->registry().device_count(), 1u);
}

TEST(BoardReport, DeadbandOnABooleanLeavesTheDeviceOut) {
  Built b(board_with(std::string(kButton) + R"(, "report": {"deadband": 1}})"));
  ASSERT_EQ(b.board->failed().size(), 1u);
  EXPECT_EQ(b.board->failed()[0].text,
            "report: a deadband needs a numeric channel (state is not; use \"on_change\")");
}

TEST(BoardReport, PoliciesInRegistryOrder) {
  Built b(board_with(std::string(kEnv) + R"(, "report": {"pressure": {"deadband": 10}}}, )" + kButton +
                     R"(, "report": "on_change"})"));
  const std::vector<drv::ReportPolicy> p = boards::report_policies(*b.board);
  ASSERT_EQ(p.size(), 4u);  // temperature humidity pressure, state
  EXPECT_EQ(p[0].mode, ReportMode::Interval);
  EXPECT_EQ(p[1].mode, ReportMode::Interval);
  EXPECT_EQ(p[2].mode, ReportMode::Deadband);
  EXPECT_EQ(p[2].deadband_mantissa, 10);
  EXPECT_EQ(p[3].mode, ReportMode::OnChange);
}

}  // namespace
