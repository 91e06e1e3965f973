// The board file's "watchdog" key (linux boards): parsing with its exact
// errors, and a node that cannot be opened leaving the board up without one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "boards/board.hpp"
#include "hal/sim/manual_clock.hpp"
#include "test_tmpdir.hpp"

using hal::Err;
using xiot_test::TempDir;

namespace {

std::string linux_board(const std::string& watchdog) {
  return R"({"name": "pi", "hal": "linux", "watchdog": )" + watchdog +
         R"(, "devices": [{"name": "sys0", "compatible": "xiot,system-metrics"}]})";
}

TEST(BoardWatchdog, ParsesDeviceAndTimeout) {
  boards::BoardSpec spec;
  std::string error;
  ASSERT_TRUE(boards::parse_board_text(linux_board(R"({"device": "/dev/watchdog1", "timeout_s": 15})").c_str(),
                                       "b.json", &spec, &error))
      << error;
  ASSERT_TRUE(spec.watchdog.has_value());
  EXPECT_EQ(spec.watchdog->device, "/dev/watchdog1");
  EXPECT_EQ(spec.watchdog->timeout_s, 15u);

  ASSERT_TRUE(boards::parse_board_text(linux_board(R"({"device": "/dev/watchdog"})").c_str(), "b.json", &spec,
                                       &error))
      << error;
  ASSERT_TRUE(spec.watchdog.has_value());
  EXPECT_EQ(spec.watchdog->timeout_s, 0u);  // the agent's

  ASSERT_TRUE(boards::parse_board_text(R"({"name": "x", "hal": "linux", "devices": []})", "b.json", &spec, &error));
  EXPECT_FALSE(spec.watchdog.has_value());
}

struct BadWatchdog {
  const char* what;
  std::string text;
  std::string error;
};

void PrintTo(const BadWatchdog& b, std::ostream* os) { *os << b.what; }

class BoardWatchdogError : public ::testing::TestWithParam<BadWatchdog> {};

TEST_P(BoardWatchdogError, ExactError) {
  boards::BoardSpec spec;
  std::string error;
  EXPECT_FALSE(boards::parse_board_text(GetParam().text.c_str(), "b.json", &spec, &error));
  EXPECT_EQ(error, "b.json" + GetParam().error);
}

std::vector<BadWatchdog> bad_watchdogs() {
  return {
      {"path_not_a_string", linux_board(R"({"device": 7})"),
       ": watchdog.device: expected an absolute device path (at most 63 characters), got 7"},
      {"path_relative", linux_board(R"({"device": "watchdog"})"),
       ": watchdog.device: expected an absolute device path (at most 63 characters), got \"watchdog\""},
      {"path_missing", linux_board(R"({"timeout_s": 30})"),
       ": watchdog.device: missing; expected an absolute device path (at most 63 characters)"},
      {"timeout_too_short", linux_board(R"({"device": "/dev/watchdog", "timeout_s": 1})"),
       ": watchdog.timeout_s: expected an integer from 5 to 3600, got 1"},
      {"timeout_too_long", linux_board(R"({"device": "/dev/watchdog", "timeout_s": 3601})"),
       ": watchdog.timeout_s: expected an integer from 5 to 3600, got 3601"},
      {"timeout_fraction", linux_board(R"({"device": "/dev/watchdog", "timeout_s": 7.5})"),
       ": watchdog.timeout_s: expected an integer from 5 to 3600, got 7.5"},
      {"unknown_key", linux_board(R"({"device": "/dev/watchdog", "timeout": 30})"),
       ": watchdog.timeout: unknown key (did you mean \"timeout_s\"?)"},
      {"not_an_object", linux_board(R"("/dev/watchdog")"),
       ": watchdog: expected an object, got \"/dev/watchdog\""},
      {"on_a_sim_board", R"({"name": "x", "hal": "sim", "watchdog": {"device": "/dev/watchdog"}, "devices": []})",
       ": watchdog: only for \"hal\": \"linux\" (a sim board always has its simulated watchdog)"},
  };
}

INSTANTIATE_TEST_SUITE_P(Table, BoardWatchdogError, ::testing::ValuesIn(bad_watchdogs()),
                         [](const ::testing::TestParamInfo<BadWatchdog>& i) { return std::string(i.param.what); });

TEST(BoardWatchdog, ANodeThatCannotBeOpenedIsListedAndTheBoardRunsWithoutIt) {
  TempDir tmp;
  const std::string path = tmp.write("board.json", linux_board(R"({"device": "/dev/watchdog-does-not-exist"})"));
  hal::sim::ManualClock clock;
  std::string error;
  auto board = boards::Board::open(path.c_str(), clock, clock, &error);
  ASSERT_NE(board, nullptr) << error;
  EXPECT_EQ(board->watchdog(), nullptr);
  EXPECT_STREQ(board->watchdog_name(), "");
  ASSERT_EQ(board->failed().size(), 1u);
  EXPECT_EQ(board->failed()[0].name, "watchdog");
  EXPECT_EQ(board->failed()[0].compatible, "linux,watchdog");
  EXPECT_EQ(board->failed()[0].err, Err::NotFound);
  EXPECT_EQ(board->failed()[0].text, "watchdog.device: /dev/watchdog-does-not-exist: not found");
  EXPECT_EQ(board->registry().device_count(), 1u);  // sys0 all the same
}

TEST(BoardWatchdog, ANodeThatIsNoWatchdogIsListedAsNotSupported) {
  TempDir tmp;
  const std::string node = tmp.write("fake-watchdog", "");
  const std::string path = tmp.write("board.json", linux_board(R"({"device": ")" + node + R"("})"));
  hal::sim::ManualClock clock;
  std::string error;
  auto board = boards::Board::open(path.c_str(), clock, clock, &error);
  ASSERT_NE(board, nullptr) << error;
  EXPECT_EQ(board->watchdog(), nullptr);
  ASSERT_EQ(board->failed().size(), 1u);
  EXPECT_EQ(board->failed()[0].err, Err::NotSupported);
  EXPECT_EQ(board->failed()[0].text, "watchdog.device: " + node + ": not supported");
}

TEST(BoardWatchdog, TheSimBoardNamesItsSimulatedOne) {
  hal::sim::ManualClock clock;
  std::string error;
  auto board = boards::Board::open((std::string(XIOT_BOARDS_DIR) + "/sim/board.json").c_str(), clock, clock, &error);
  ASSERT_NE(board, nullptr) << error;
  EXPECT_STREQ(board->watchdog_name(), "simulated");
}

}  // namespace
