// libFuzzer target: the board-file parser (boards/board.hpp) and, for files it
// accepts, building the simulated board from them (chip models, drivers,
// init). Any crash, sanitizer finding or hang is a bug; rejecting input with
// an error message is the expected outcome for nearly every input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "boards/board.hpp"
#include "hal/sim/manual_clock.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  boards::BoardSpec spec;
  std::string error;
  if (!boards::parse_board_text(text.c_str(), "fuzz/board.json", &spec, &error)) {
    if (error.empty()) __builtin_trap();  // every rejection names what is wrong
    return 0;
  }
  if (spec.hal != boards::HalKind::Sim) return 0;  // linux boards open /dev/i2c-*
  hal::sim::ManualClock clock;
  std::unique_ptr<boards::Board> board = boards::Board::create(spec, clock, clock, &error);
  if (board) (void)board->registry().sample_all();
  return 0;
}
