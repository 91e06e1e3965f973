// libFuzzer target: journal recovery (agent/journal.hpp) on arbitrary segment
// contents — what a power cut, a torn write or a worn flash can leave. The
// input is split into up to four segments (byte 0: the split points); the
// journal opens them (verifying lengths and CRCs, truncating torn tails),
// every recoverable item is read back in order, then a new item is appended,
// read back and flushed. Oracles beyond "no crash": every item comes back as
// exactly its stated length of NUL-free text, and a fresh append after recovery
// always reads back exactly as written. (Replay follows file order: records
// whose CRC checks out but that a corruption duplicated or reordered are
// replayed as found; subscribers de-duplicate by item id.)
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "agent/journal.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_segment_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  hal::sim::SimSegmentStore store;
  if (store.open() != hal::Err::Ok) __builtin_trap();
  const size_t segments = 1 + (data[0] & 3);
  const uint8_t* body = data + 1;
  const size_t len = size - 1;
  for (size_t i = 0; i < segments; ++i) {
    const size_t from = len * i / segments;
    const size_t to = len * (i + 1) / segments;
    const uint32_t id = static_cast<uint32_t>(i + 1);
    if (to > from) (void)store.append(id, body + from, to - from);
    (void)store.sync(id);
  }
  hal::sim::ManualClock clock;
  agent::JournalOptions opt;
  opt.max_bytes = 65536;
  agent::Journal journal(store, clock, opt);
  if (journal.open(4096) != hal::Err::Ok) return 0;  // a refusal names why; no crash is the point
  // Power-cut accounting: a reported range is above every seq found, and new
  // seqs continue after it (never reused).
  const agent::JournalStats& st = journal.stats();
  if (st.power_cut_lost != 0 &&
      (st.power_cut_last < st.power_cut_first || st.power_cut_lost != st.power_cut_last - st.power_cut_first + 1 ||
       journal.last_seq() != st.power_cut_last)) {
    __builtin_trap();
  }

  agent::JournalPos cursor = journal.begin();
  agent::JournalItem item;
  for (int n = 0; n < 100000 && !journal.at_end(&cursor); ++n) {
    const hal::Err e = journal.next_item(&cursor, &item);
    if (e == hal::Err::NotFound) break;
    if (e != hal::Err::Ok) break;
    // A payload holding a NUL is damage (never replayed): what comes back is
    // exactly payload_len bytes of text.
    if (item.payload[item.payload_len] != '\0' || std::strlen(item.payload) != item.payload_len) __builtin_trap();
  }

  static const char kPayload[] = "<sensml xmlns='urn:ietf:params:xml:ns:senml'/>";
  const uint64_t seq = journal.last_seq() + 1;
  agent::JournalPos where;
  if (journal.append_item(seq, "fuzz-000001", kPayload, sizeof kPayload - 1, &where) == hal::Err::Ok) {
    agent::JournalItem back;
    if (journal.read_item(where, &back) != hal::Err::Ok) __builtin_trap();
    if (back.seq != seq || std::strcmp(back.item_id, "fuzz-000001") != 0 ||
        back.payload_len != sizeof kPayload - 1 || std::memcmp(back.payload, kPayload, back.payload_len) != 0) {
      __builtin_trap();
    }
  }
  (void)journal.flush();
  return 0;
}
