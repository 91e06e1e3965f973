// Microbenchmarks of the per-reading hot path: sampling the simulated board,
// building one telemetry item (SenML XML and protobuf) and turning it into the
// libstrophe stanza the session sends; and the bytes a day of telemetry costs
// with interval reporting and with event-driven reporting (BM_BytesPerDay). Figures, not assertions: run
// `tools/bench` (or build/tests/bench/xiot_bench) and read the output.
#include <benchmark/benchmark.h>
#include <strophe.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "agent/alerts.hpp"
#include "agent/senml.hpp"
#include "agent/senml_pb.hpp"
#include "agent/telemetry.hpp"
#include "bme280/bme280_model.hpp"
#include "boards/board.hpp"
#include "drv/report.hpp"
#include "hal/sim/manual_clock.hpp"
#include "hal/sim/sim_gpio.hpp"

#ifndef XIOT_SOURCE_DIR
#error "XIOT_SOURCE_DIR must point at the source tree"
#endif

namespace {

const char* sim_board_path() { return XIOT_SOURCE_DIR "/boards/sim/board.json"; }

struct SimBoard {
  hal::sim::ManualClock clock;
  std::unique_ptr<boards::Board> board;
  SimBoard() {
    std::string error;
    board = boards::Board::open(sim_board_path(), clock, clock, &error);
    if (!board) std::fprintf(stderr, "bench: %s\n", error.c_str());
  }
};

// Takes every item and remembers only its size (what a sink must copy); with
// a listener (the outbox) it answers each publish at once, as the server's IQ
// result would.
class CountingSink : public agent::TelemetrySink {
 public:
  bool ready() override { return true; }
  hal::Err publish(const char* id, const char* /*payload*/, size_t len) override {
    bytes += len;
    ++items;
    if (listener != nullptr) listener->on_publish_result(id, agent::PublishOutcome::Accepted, "");
    return hal::Err::Ok;
  }
  agent::PublishListener* listener = nullptr;
  uint64_t bytes = 0;
  uint64_t items = 0;
};

// One coherent snapshot of every device on the sim board (I2C burst of the
// BME280 model, GPIO reads, system metrics).
void BM_SampleSimBoard(benchmark::State& state) {
  SimBoard sim;
  if (!sim.board) return state.SkipWithError("sim board did not load");
  for (auto _ : state) {
    benchmark::DoNotOptimize(sim.board->registry().sample_all());
  }
}
BENCHMARK(BM_SampleSimBoard);

// What the alert engine adds to one snapshot (docs/alerts.md): N rules
// (0, 1, 8) evaluated over the sim board's values after a sample; the rules
// never fire (the sample itself is not timed: BM_SampleSimBoard).
void BM_AlertRulesPerSnapshot(benchmark::State& state) {
  SimBoard sim;
  if (!sim.board) return state.SkipWithError("sim board did not load");
  agent::AlertEngine engine(sim.board->registry(), sim.clock, sim.clock);
  agent::AlertSettings s;
  std::snprintf(s.room, sizeof s.room, "alarms@conference.localhost");
  const char* const lines[] = {"env0.temperature above 80 hysteresis 0.5 for 10", "env0.humidity below 5",
                               "env0.pressure below 80000", "climate0.temperature above 80",
                               "climate0.humidity above 99", "env0.temperature below -40",
                               "climate0.temperature below -40", "env0.pressure above 120000"};
  char why[128];
  for (int64_t i = 0; i < state.range(0); ++i) {
    if (!agent::parse_alert_rule(lines[i], &s.rules[s.count++], why, sizeof why)) return state.SkipWithError(why);
  }
  engine.set_rules(s);
  (void)sim.board->registry().sample_all();
  const size_t n = sim.board->registry().device_count();
  const uint32_t all = n >= 32 ? ~0u : (1u << n) - 1;
  for (auto _ : state) {
    sim.clock.advance_ms(1000);
    engine.on_sampled(all);
    benchmark::DoNotOptimize(engine.tick());
  }
  state.counters["alarms"] = static_cast<double>(engine.active_alarms());
}
BENCHMARK(BM_AlertRulesPerSnapshot)->Arg(0)->Arg(1)->Arg(8);

// Snapshot values of the sim board, collected once, for the formatters.
struct Readings {
  std::vector<agent::Sample> samples;
  std::vector<std::string> names;
  explicit Readings(drv::Registry& reg) {
    (void)reg.sample_all();
    for (size_t d = 0; d < reg.device_count(); ++d) {
      drv::Device& dev = reg.device(d);
      for (size_t c = 0; c < dev.channel_count(); ++c) {
        names.push_back(std::string(dev.name()) + "." + dev.channel(c).quantity);
      }
    }
    size_t k = 0;
    for (size_t d = 0; d < reg.device_count(); ++d) {
      drv::Device& dev = reg.device(d);
      for (size_t c = 0; c < dev.channel_count(); ++c, ++k) {
        auto v = dev.get(c);
        samples.push_back(agent::Sample{names[k].c_str(), dev.channel(c).unit, v.value()});
      }
    }
  }
};

using Formatter = hal::Result<size_t> (*)(char*, size_t, const char*, const agent::Snapshot*, size_t);

// Formats state.range(0) snapshots of the sim board, one second apart.
void format_batch(benchmark::State& state, Formatter format) {
  SimBoard sim;
  if (!sim.board) return state.SkipWithError("sim board did not load");
  Readings r(sim.board->registry());
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<agent::Snapshot> snaps(batch, agent::Snapshot{hal::WallTime{1795476707569569}, r.samples.data(),
                                                            r.samples.size()});
  for (size_t i = 0; i < batch; ++i) snaps[i].time.unix_us += static_cast<int64_t>(i) * 1000000;
  char buf[65536];
  size_t len = 0;
  for (auto _ : state) {
    auto n = format(buf, sizeof(buf), "dev1_localhost:", snaps.data(), snaps.size());
    len = n.value();
    benchmark::DoNotOptimize(buf);
  }
  state.counters["bytes"] = static_cast<double>(len);
}

void BM_FormatSenmlXml(benchmark::State& state) { format_batch(state, agent::format_senml_xml); }
BENCHMARK(BM_FormatSenmlXml)->Arg(1)->Arg(10);

void BM_FormatSenmlPb(benchmark::State& state) { format_batch(state, agent::format_senml_pb); }
BENCHMARK(BM_FormatSenmlPb)->Arg(1)->Arg(10);

// The whole agent-side path for one item: the publisher's schedule fires,
// samples the board, formats the item, queues it in the outbox (memory only
// here: bench_journal.cpp measures the journal) and hands it to the sink.
void BM_TelemetryItemEndToEnd(benchmark::State& state) {
  SimBoard sim;
  if (!sim.board) return state.SkipWithError("sim board did not load");
  agent::TelemetryConfig cfg;
  cfg.interval_s = 1.0;
  cfg.encoding = state.range(0) == 0 ? agent::Encoding::SenmlXml : agent::Encoding::Protobuf;
  CountingSink sink;
  agent::TelemetryPublisher pub(sim.board->registry(), sim.clock, sim.clock, cfg, "dev1@localhost", "7f3a91c2",
                                sink);
  if (pub.start() != hal::Err::Ok) return state.SkipWithError("publisher did not start");
  sink.listener = &pub.outbox();
  (void)pub.tick();
  for (auto _ : state) {
    sim.clock.advance_ms(1000);
    benchmark::DoNotOptimize(pub.tick());
  }
  state.counters["bytes/item"] = sink.items ? static_cast<double>(sink.bytes) / static_cast<double>(sink.items) : 0;
  state.SetLabel(state.range(0) == 0 ? "senml-xml" : "protobuf");
}
BENCHMARK(BM_TelemetryItemEndToEnd)->Arg(0)->Arg(1);

// One simulated day on the sim board, the same world both ways: env0's
// temperature follows 21 +/- 2.5 Cel over the day (a slow sine), humidity
// and pressure stay put, button0 is pressed 6 times for 2 s, nothing is
// set. The loop turns every second (the agent's loop is at least that busy).
//  - interval (Arg 0): every channel every 60 s (telemetry.interval_s 60);
//  - events   (Arg 1): env0 temperature deadband 0.1 Cel, humidity 1 %RH,
//    pressure 50 Pa, button0 and relay0 on_change, sys0 interval; a
//    heartbeat of every channel every 900 s (interval_s 900), checks every
//    1 s (sample_s 1). A temperature change of more than 0.1 Cel is seen
//    within 1 s instead of 60, and every press is seen (60 s polling misses
//    presses shorter than a minute).
// Second argument: 0 senml-xml, 1 protobuf. Counters: item payload bytes and
// items per day.
void BM_BytesPerDay(benchmark::State& state) {
  const bool events = state.range(0) == 1;
  for (auto _ : state) {
    SimBoard sim;
    if (!sim.board) return state.SkipWithError("sim board did not load");
    drv::sim::Bme280Model* env = drv::sim::as_bme280(sim.board->sim_model("env0"));
    hal::sim::SimGpio* gpio = sim.board->sim_gpio();
    if (env == nullptr || gpio == nullptr) return state.SkipWithError("sim board has no env0 model or gpio");
    agent::TelemetryConfig cfg;
    cfg.interval_s = events ? 900 : 60;
    cfg.sample_s = 1;
    cfg.encoding = state.range(1) == 0 ? agent::Encoding::SenmlXml : agent::Encoding::Protobuf;
    CountingSink sink;
    agent::TelemetryPublisher pub(sim.board->registry(), sim.clock, sim.clock, cfg, "dev1@localhost", "7f3a91c2",
                                  sink);
    // Registry order: env0 temperature humidity pressure, relay0, button0, sys0 x4.
    std::vector<drv::ReportPolicy> policies(sim.board->registry().channel_count(), drv::ReportPolicy::interval());
    if (events && policies.size() >= 5) {
      policies[0] = drv::ReportPolicy::deadband(1, -1);
      policies[1] = drv::ReportPolicy::deadband(1, 0);
      policies[2] = drv::ReportPolicy::deadband(50, 0);
      policies[3] = drv::ReportPolicy::on_change();
      policies[4] = drv::ReportPolicy::on_change();
    }
    pub.set_report_policies(policies.data(), policies.size());
    if (pub.start() != hal::Err::Ok) return state.SkipWithError("publisher did not start");
    sink.listener = &pub.outbox();
    constexpr int kDay = 86400;
    constexpr double kPi = 3.14159265358979323846;
    for (int t = 0; t < kDay; ++t) {
      env->set_temperature_c(21.0 + 2.5 * std::sin(2 * kPi * t / kDay));
      const int in_slot = t % (kDay / 6);
      gpio->set_external(27, !(in_slot >= 5000 && in_slot < 5002));  // active low: pressed = low
      (void)pub.tick();
      sim.clock.advance_ms(1000);
    }
    state.counters["bytes/day"] = static_cast<double>(sink.bytes);
    state.counters["items/day"] = static_cast<double>(sink.items);
    state.counters["events/day"] = static_cast<double>(pub.events_published());
  }
  state.SetLabel(std::string(events ? "on_change/deadband" : "interval") + ", " +
                 (state.range(1) == 0 ? "senml-xml" : "protobuf"));
}
BENCHMARK(BM_BytesPerDay)->Args({0, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1})->Iterations(1)->Unit(benchmark::kMillisecond);

// What the session does with an item: wrap it in the publish IQ text, let
// libstrophe parse it into a stanza tree and serialise it for the socket.
void BM_PublishStanzaRoundTrip(benchmark::State& state) {
  SimBoard sim;
  if (!sim.board) return state.SkipWithError("sim board did not load");
  Readings r(sim.board->registry());
  agent::Snapshot snap{hal::WallTime{1795476707569569}, r.samples.data(), r.samples.size()};
  char payload[8192];
  const size_t plen = agent::format_senml_xml(payload, sizeof(payload), "dev1_localhost:", &snap, 1).value();
  std::string iq = "<iq type='set' id='pub-7f3a91c2-000042'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                   "<publish node='urn:xiot:telemetry:0'><item id='7f3a91c2-000042'>";
  iq.append(payload, plen);
  iq += "</item></publish><publish-options><x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
        "<field var='pubsub#persist_items'><value>true</value></field>"
        "<field var='pubsub#access_model'><value>presence</value></field></x></publish-options></pubsub></iq>";
  xmpp_initialize();
  xmpp_ctx_t* ctx = xmpp_ctx_new(nullptr, nullptr);
  size_t wire = 0;
  for (auto _ : state) {
    xmpp_stanza_t* st = xmpp_stanza_new_from_string(ctx, iq.c_str());
    char* text = nullptr;
    size_t len = 0;
    if (xmpp_stanza_to_text(st, &text, &len) == XMPP_EOK) {
      wire = len;
      xmpp_free(ctx, text);
    }
    xmpp_stanza_release(st);
  }
  xmpp_ctx_free(ctx);
  xmpp_shutdown();
  state.counters["wire_bytes"] = static_cast<double>(wire);
}
BENCHMARK(BM_PublishStanzaRoundTrip);

}  // namespace

BENCHMARK_MAIN();
