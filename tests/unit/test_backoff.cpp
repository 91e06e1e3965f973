// agent/backoff: the full-jitter schedule with a fixed-seed Rng.
#include "agent/backoff.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

TEST(Rng, DeterministicPerSeed) {
  agent::Rng a(42);
  agent::Rng b(42);
  agent::Rng c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs = differs || x != c.next();
  }
  EXPECT_TRUE(differs);
  agent::Rng zero(0);  // a zero seed would stick at zero in a plain xorshift
  EXPECT_NE(zero.next(), 0u);
  EXPECT_NE(zero.next(), zero.next());
}

TEST(Rng, UniformStaysInRangeAndReachesBothEnds) {
  agent::Rng rng(7);
  bool saw0 = false;
  bool saw5 = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = rng.uniform(5);
    ASSERT_LE(v, 5u);
    saw0 = saw0 || v == 0;
    saw5 = saw5 || v == 5;
  }
  EXPECT_TRUE(saw0);
  EXPECT_TRUE(saw5);
  EXPECT_EQ(rng.uniform(0), 0u);
  (void)rng.uniform(UINT64_MAX);  // full range is allowed
}

TEST(Backoff, CeilingDoublesUpToCap) {
  agent::Rng rng(1);
  agent::Backoff b(1000, 60000, rng);
  const uint32_t expected[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
  for (uint32_t c : expected) {
    EXPECT_EQ(b.ceiling_ms(), c);
    const uint32_t d = b.next_delay_ms();
    EXPECT_GE(d, b.min_delay_ms());
    EXPECT_LE(d, c);
  }
  EXPECT_EQ(b.attempt(), 9u);
}

TEST(Backoff, ResetStartsOver) {
  agent::Rng rng(2);
  agent::Backoff b(500, 8000, rng);
  for (int i = 0; i < 6; ++i) (void)b.next_delay_ms();
  EXPECT_EQ(b.ceiling_ms(), 8000u);
  b.reset();
  EXPECT_EQ(b.attempt(), 0u);
  EXPECT_EQ(b.ceiling_ms(), 500u);
  EXPECT_LE(b.next_delay_ms(), 500u);
}

TEST(Backoff, AfterAResetTheFirstDrawIsQuickAndNotCounted) {
  agent::Rng rng(4);
  agent::Backoff b(1000, 60000, rng);
  // Before any login: no quick draw (the first connection attempt was immediate).
  EXPECT_GE(b.next_delay_ms(), b.min_delay_ms());
  EXPECT_EQ(b.attempt(), 1u);
  uint32_t lo = UINT32_MAX;
  uint32_t hi = 0;
  double sum = 0;
  constexpr int kRounds = 4000;
  for (int i = 0; i < kRounds; ++i) {
    b.reset();
    const uint32_t quick = b.next_delay_ms();
    ASSERT_LE(quick, 250u);
    lo = quick < lo ? quick : lo;
    hi = quick > hi ? quick : hi;
    sum += quick;
    ASSERT_EQ(b.attempt(), 0u);  // not an attempt of the schedule
    ASSERT_EQ(b.ceiling_ms(), 1000u);
    const uint32_t next = b.next_delay_ms();  // the schedule's first full draw
    ASSERT_GE(next, 100u);
    ASSERT_LE(next, 1000u);
    ASSERT_EQ(b.attempt(), 1u);
  }
  EXPECT_EQ(lo, 0u);
  EXPECT_EQ(hi, 250u);
  EXPECT_NEAR(sum / kRounds, 125.0, 8.0);  // uniform over [0, 250]
}

TEST(Backoff, TheQuickDrawNeverExceedsBase) {
  agent::Rng rng(5);
  agent::Backoff b(100, 1000, rng);
  EXPECT_EQ(b.quick_ceiling_ms(), 100u);
  for (int i = 0; i < 1000; ++i) {
    b.reset();
    ASSERT_LE(b.next_delay_ms(), 100u);
  }
}

TEST(Backoff, MinimumDelayIsATenthOfBase) {
  agent::Rng rng(3);
  agent::Backoff b(1000, 1000, rng);
  EXPECT_EQ(b.min_delay_ms(), 100u);
  for (int i = 0; i < 10000; ++i) {
    const uint32_t d = b.next_delay_ms();
    ASSERT_GE(d, 100u);
    ASSERT_LE(d, 1000u);
  }
  agent::Backoff tiny(5, 5, rng);
  EXPECT_EQ(tiny.min_delay_ms(), 1u);
}

TEST(Backoff, DelaysSpreadUniformly) {
  // With ceiling == cap == base the draws are uniform over [100, 1000]:
  // ten equal bins should each hold about a tenth.
  agent::Rng rng(12345);
  agent::Backoff b(1000, 1000, rng);
  constexpr int kDraws = 20000;
  std::vector<int> bins(10, 0);
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const uint32_t d = b.next_delay_ms();
    sum += d;
    bins[std::min<size_t>(9, (d - 100) * 10 / 901)]++;
  }
  for (int n : bins) {
    EXPECT_GT(n, kDraws / 10 * 8 / 10);
    EXPECT_LT(n, kDraws / 10 * 12 / 10);
  }
  EXPECT_NEAR(sum / kDraws, 550.0, 10.0);
}

TEST(Backoff, ClampsBadParametersAndNeverOverflows) {
  agent::Rng rng(9);
  agent::Backoff zero(0, 0, rng);
  EXPECT_EQ(zero.ceiling_ms(), 1u);
  EXPECT_EQ(zero.next_delay_ms(), 1u);
  agent::Backoff inverted(5000, 100, rng);
  EXPECT_EQ(inverted.ceiling_ms(), 5000u);
  agent::Backoff huge(1, UINT32_MAX, rng);
  for (int i = 0; i < 200; ++i) (void)huge.next_delay_ms();
  EXPECT_EQ(huge.ceiling_ms(), UINT32_MAX);
  EXPECT_LE(huge.next_delay_ms(), UINT32_MAX);
}

}  // namespace
