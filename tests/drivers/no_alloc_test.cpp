// "Allocate at start-up, not per sample": counts global operator new calls
// while the sim board samples, reads and sets every channel.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "boards/board.hpp"
#include "hal/sim/manual_clock.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

// Replacement allocation functions pair malloc with free by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

TEST(NoHeapPerSample, SimBoardSamplesReadsAndSetsWithoutAllocating) {
  hal::sim::ManualClock clock;
  std::string error;
  const std::string path = std::string(XIOT_BOARDS_DIR) + "/sim/board.json";
  g_counting = true;  // control: start-up does allocate, so the counter works
  auto board = boards::Board::open(path.c_str(), clock, clock, &error);
  g_counting = false;
  ASSERT_NE(board, nullptr) << error;
  EXPECT_GT(g_allocations.load(), 10);
  drv::Registry& reg = board->registry();
  ASSERT_EQ(reg.device_count(), 11u);  // every device of boards/sim

  size_t failures = 0;
  size_t bad_reads = 0;
  g_allocations = 0;
  g_counting = true;
  for (int round = 0; round < 100; ++round) {
    clock.advance_ms(1000);
    failures += reg.sample_all();
    for (size_t d = 0; d < reg.device_count(); ++d) {
      drv::Device& dev = reg.device(d);
      for (size_t ch = 0; ch < dev.channel_count(); ++ch) {
        if (!dev.get(ch).ok()) ++bad_reads;
        if (dev.channel(ch).kind == drv::ChannelKind::Actuator) {
          if (dev.set(ch, drv::Value::boolean(round % 2 == 0)) != hal::Err::Ok) ++bad_reads;
        }
      }
    }
    if (!reg.find("env0.temperature").ok()) ++bad_reads;
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_EQ(failures, 0u);
  EXPECT_EQ(bad_reads, 0u);
}
