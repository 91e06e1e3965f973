// Counts heap allocations in the unit-test binary (global operator new is
// replaced in alloc_counter.cpp), so tests can assert a code path never
// allocates.
#pragma once

namespace xiot_test {

/// Allocations through any global operator new since the program started.
long allocation_count();

}  // namespace xiot_test
