// Microbenchmarks of the telemetry journal and outbox (docs/journal.md):
// one append (in memory: the journal's own work; on files: plus write(2), and
// with fsync per item), an item's whole outbox cycle (commit, journal, publish,
// result, settle), reading a full 1 MiB journal back (the replay after an
// outage) and recovering it at start-up. Files go to $TMPDIR (default /tmp);
// the page cache is warm, so the file figures are CPU and system-call cost,
// except fsync, which is the disk's. Figures, not assertions.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "agent/journal.hpp"
#include "agent/log.hpp"
#include "agent/outbox.hpp"
#include "hal/linux/file_segment_store.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_segment_store.hpp"

namespace {

// A typical item: the sim board's 9 channels as SenML XML (~470 bytes).
std::string sample_payload() {
  std::string p =
      "<sensml xmlns='urn:ietf:params:xml:ns:senml'><senml bn='dev1_localhost:' bt='1763900000.25' "
      "n='env0.temperature' u='Cel' v='21.54'/><senml n='env0.humidity' u='%RH' v='40.1'/>"
      "<senml n='env0.pressure' u='Pa' v='101325'/><senml n='relay0.state' vb='false'/>"
      "<senml n='button0.state' vb='false'/><senml n='sys0.uptime' u='s' v='1234.56'/>"
      "<senml n='sys0.load' v='0.12'/><senml n='sys0.mem_available' u='B' v='123456789'/>"
      "<senml n='sys0.mem_used' u='B' v='98765432'/></sensml>";
  return p;
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string t = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/xiot-bench-journal-XXXXXX";
    if (mkdtemp(t.data()) != nullptr) path_ = t;
  }
  ~TempDir() {
    if (!path_.empty()) {
      const std::string cmd = "rm -rf '" + path_ + "'";
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "bench: could not remove %s\n", path_.c_str());
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The journal logs drops and recoveries at warn/info: not per iteration here.
struct QuietLogs {
  QuietLogs() { agent::log_set_level(agent::LogLevel::Error); }
  ~QuietLogs() { agent::log_set_level(agent::LogLevel::Info); }
};

void id_for(char* buf, size_t cap, uint64_t seq) {
  std::snprintf(buf, cap, "7f3a91c2-%06llu", static_cast<unsigned long long>(seq));
}

// Appends acknowledged at once (a live link): the journal stays small, settled
// segments are removed as it goes.
void append_loop(benchmark::State& state, agent::Journal& j, hal::sim::ManualClock& clock) {
  const std::string payload = sample_payload();
  uint64_t seq = j.last_seq();
  char id[40];
  for (auto _ : state) {
    ++seq;
    id_for(id, sizeof id, seq);
    agent::JournalPos pos;
    if (j.append_item(seq, id, payload.c_str(), payload.size(), &pos) != hal::Err::Ok) {
      return state.SkipWithError("append failed");
    }
    j.settle(seq, pos);
    j.set_acked_through(seq);
    clock.advance_ms(100);
    j.tick();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(payload.size()));
  state.counters["syncs"] = static_cast<double>(j.stats().syncs);
}

void BM_JournalAppendMemory(benchmark::State& state) {
  QuietLogs quiet;
  hal::sim::ManualClock clock;
  hal::sim::SimSegmentStore store(64, 300 * 1024);
  agent::JournalOptions o;
  o.fsync = agent::FsyncPolicy::Never;
  agent::Journal j(store, clock, o);
  if (j.open(1024) != hal::Err::Ok) return state.SkipWithError("open failed");
  append_loop(state, j, clock);
}
BENCHMARK(BM_JournalAppendMemory);

// Arg: 0 = fsync never, 1 = interval (1 s of the bench's 0.1 s steps), 2 = always.
void BM_JournalAppendFile(benchmark::State& state) {
  QuietLogs quiet;
  TempDir dir;
  hal::sim::ManualClock clock;
  hal::linux_::FileSegmentStore store((dir.path() + "/journal").c_str());
  agent::JournalOptions o;
  o.fsync = state.range(0) == 0 ? agent::FsyncPolicy::Never
                                : state.range(0) == 1 ? agent::FsyncPolicy::Interval : agent::FsyncPolicy::Always;
  agent::Journal j(store, clock, o);
  if (j.open(1024) != hal::Err::Ok) return state.SkipWithError("open failed");
  append_loop(state, j, clock);
  state.SetLabel(agent::fsync_policy_name(o.fsync));
}
BENCHMARK(BM_JournalAppendFile)->Arg(0)->Arg(1)->Arg(2);

// The outbox's whole cycle for one item, journal on files (fsync interval):
// commit (journal append), pump (publish from memory), the result (settle).
class AckingSink : public agent::TelemetrySink {
 public:
  bool ready() override { return true; }
  hal::Err publish(const char* id, const char*, size_t) override {
    if (listener != nullptr) listener->on_publish_result(id, agent::PublishOutcome::Accepted, "");
    return hal::Err::Ok;
  }
  agent::PublishListener* listener = nullptr;
};

void BM_OutboxItemCycle(benchmark::State& state) {
  QuietLogs quiet;
  TempDir dir;
  hal::sim::ManualClock clock;
  hal::linux_::FileSegmentStore store((dir.path() + "/journal").c_str());
  agent::Journal j(store, clock, agent::JournalOptions());
  AckingSink sink;
  agent::Outbox ob(sink, clock, &j);
  if (ob.start(1024) != hal::Err::Ok) return state.SkipWithError("start failed");
  sink.listener = &ob;
  const std::string payload = sample_payload();
  for (auto _ : state) {
    size_t cap = 0;
    char* buf = ob.item_buffer(&cap);
    std::memcpy(buf, payload.data(), payload.size());
    if (ob.commit(payload.size(), "7f3a91c2") != hal::Err::Ok) return state.SkipWithError("commit failed");
    ob.pump();
    clock.advance_ms(100);
    ob.tick();
  }
  state.counters["acked"] = static_cast<double>(ob.stats().acked);
}
BENCHMARK(BM_OutboxItemCycle);

// A full 1 MiB journal of unacknowledged items on files (an outage's worth).
struct FullJournal {
  TempDir dir;
  hal::sim::ManualClock clock;
  std::string path;
  uint64_t items = 0;
  FullJournal() : path(dir.path() + "/journal") {
    hal::linux_::FileSegmentStore store(path.c_str());
    agent::Journal j(store, clock, agent::JournalOptions());
    if (j.open(1024) != hal::Err::Ok) return;
    const std::string payload = sample_payload();
    char id[40];
    // Until drop-oldest has run: the journal is as full as it gets.
    for (uint64_t seq = 1; j.stats().dropped == 0 || seq < 3000; ++seq) {
      id_for(id, sizeof id, seq);
      if (j.append_item(seq, id, payload.c_str(), payload.size(), nullptr) != hal::Err::Ok) return;
    }
    (void)j.flush();
    items = j.stats().unsettled;
  }
};

void BM_JournalRecover1MiB(benchmark::State& state) {
  QuietLogs quiet;
  FullJournal full;
  if (full.items == 0) return state.SkipWithError("could not fill the journal");
  uint64_t bytes = 0;
  uint64_t recovered = 0;
  for (auto _ : state) {
    hal::linux_::FileSegmentStore store(full.path.c_str());
    agent::Journal j(store, full.clock, agent::JournalOptions());
    if (j.open(1024) != hal::Err::Ok) return state.SkipWithError("open failed");
    bytes = j.stats().bytes;
    recovered = j.stats().recovered;
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["items"] = static_cast<double>(recovered);
}
BENCHMARK(BM_JournalRecover1MiB)->Unit(benchmark::kMillisecond);

void BM_JournalReplay1MiB(benchmark::State& state) {
  QuietLogs quiet;
  FullJournal full;
  if (full.items == 0) return state.SkipWithError("could not fill the journal");
  hal::linux_::FileSegmentStore store(full.path.c_str());
  agent::Journal j(store, full.clock, agent::JournalOptions());
  if (j.open(1024) != hal::Err::Ok) return state.SkipWithError("open failed");
  uint64_t n = 0;
  for (auto _ : state) {
    agent::JournalPos c = j.begin();
    agent::JournalItem it;
    n = 0;
    while (j.next_item(&c, &it) == hal::Err::Ok) ++n;
  }
  state.counters["items"] = static_cast<double>(n);
}
BENCHMARK(BM_JournalReplay1MiB)->Unit(benchmark::kMillisecond);

}  // namespace
