// XEP-0363 end to end on the devserver (Prosody's mod_http_file_share; the
// ejabberd run: mod_http_upload): `xiotctl upload` PUTs a few MiB over HTTPS
// and prints the GET URL; agent::HttpsGet fetches it into a file sink, the
// connection dropped once mid-way and resumed from sink.received(); the bytes
// are compared. Prints the upload and fetch throughput (MiB/s).
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/https_get.hpp"
#include "harness.hpp"

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;
using xiot::test::TempDir;

namespace {

class SteadyClock final : public hal::MonotonicClock {
 public:
  hal::MonoTime mono_now() override {
    return hal::MonoTime{
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count()};
  }
};

// Appends to a file; received() = what was written (a staging file's size).
class FileSink final : public agent::ByteSink {
 public:
  explicit FileSink(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {}
  ~FileSink() override {
    if (f_ != nullptr) std::fclose(f_);
  }
  hal::Err write(uint64_t offset, const uint8_t* data, size_t len) override {
    if (offset != size_) return hal::Err::InvalidArgument;
    if (f_ == nullptr || std::fwrite(data, 1, len, f_) != len) return hal::Err::Io;
    size_ += len;
    return hal::Err::Ok;
  }
  uint64_t received() const override { return size_; }
  void flush() { std::fflush(f_); }

 private:
  std::FILE* f_;
  uint64_t size_ = 0;
};

std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  std::mt19937_64 rng(363);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

class HttpUpload : public ::testing::Test {
 protected:
  void SetUp() override { ops_ = xiot::test::write_ops_config(server_, tmp_ / "ops.json"); }

  // Runs xiotctl upload; returns the finished process.
  std::unique_ptr<Process> upload(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {xiot::test::binary_path("xiotctl"), "--config", ops_, "upload"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = std::make_unique<Process>(argv);
    EXPECT_TRUE(p->wait_exit(in(60s)).has_value()) << "xiotctl upload still running";
    return p;
  }

  // Pumps until not running, the predicate holds, or 60 s pass.
  static hal::Err pump_until(agent::HttpsGet& get, agent::ByteSink& sink, const std::function<bool()>& stop_when) {
    auto deadline = in(60s);
    while (get.running() && !stop_when() && xiot::test::Clock::now() < deadline) {
      hal::Err e = get.pump(sink, 256 * 1024);
      if (e != hal::Err::Ok) return e;
      struct pollfd p = {get.fd(), static_cast<short>(POLLIN | POLLOUT), 0};
      if (p.fd >= 0) (void)poll(&p, 1, 10);
    }
    return get.running() && !stop_when() ? hal::Err::Timeout : hal::Err::Ok;
  }

  DevServer server_;
  TempDir tmp_{"xiot-http-upload"};
  std::string ops_;
};

TEST_F(HttpUpload, UploadThenResumableHttpsFetch) {
  const std::vector<uint8_t> data = random_bytes(6 * 1024 * 1024 + 4321);
  const std::string src = tmp_ / "image.bin";
  {
    std::FILE* f = std::fopen(src.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
    std::fclose(f);
  }
  auto up = upload({src, "--json"});
  ASSERT_EQ(up->wait_exit(in(1s)), 0) << up->err();
  std::smatch m;
  const std::string out = up->out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("\"url\": \"(https://[^\"]+)\".*\"mib_per_s\": ([0-9.]+)")))
      << out;
  const std::string url = m[1];
  ASSERT_EQ(url.rfind("https://localhost:" + std::to_string(server_.https_port()) + "/", 0), 0u) << url;
  EXPECT_NE(out.find("\"service\": \"" + server_.upload_service() + "\""), std::string::npos) << out;
  std::printf("upload (%s, %zu bytes): %s MiB/s  %s\n", server_.kind().c_str(), data.size(), m[2].str().c_str(),
              url.c_str());

  // Fetch, dropped once at about a third, resumed from the sink.
  SteadyClock clock;
  const std::string dst = tmp_ / "fetched.bin";
  FileSink sink(dst);
  agent::HttpsGet get(clock);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(get.start(url.c_str(), 0, server_.ca_file().c_str()), hal::Err::Ok) << get.error_text();
  ASSERT_EQ(pump_until(get, sink, [&] { return sink.received() >= data.size() / 3; }), hal::Err::Ok)
      << get.error_text();
  ASSERT_TRUE(get.running());
  get.stop();  // the link is lost
  const uint64_t cut_at = sink.received();
  ASSERT_GT(cut_at, 0u);
  ASSERT_LT(cut_at, data.size());
  ASSERT_EQ(get.start(url.c_str(), cut_at, server_.ca_file().c_str(), data.size()), hal::Err::Ok) << get.error_text();
  ASSERT_EQ(pump_until(get, sink, [] { return false; }), hal::Err::Ok) << get.error_text();
  ASSERT_TRUE(get.done()) << get.error_text();
  const double resumed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Prosody answers the Range with 206; ejabberd 23.01's mod_http_upload
  // ignores Range (200): the client drops what it already has.
  EXPECT_EQ(get.status(), server_.is_ejabberd() ? 200 : 206);
  EXPECT_EQ(get.total(), data.size());
  sink.flush();
  EXPECT_EQ(xiot::test::read_file(dst), std::string(data.begin(), data.end()));

  // An uninterrupted fetch for the throughput figure.
  FileSink sink2(tmp_ / "fetched2.bin");
  t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(get.start(url.c_str(), 0, server_.ca_file().c_str()), hal::Err::Ok);
  ASSERT_EQ(pump_until(get, sink2, [] { return false; }), hal::Err::Ok) << get.error_text();
  ASSERT_TRUE(get.done());
  const double full_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double mib = static_cast<double>(data.size()) / (1024.0 * 1024.0);
  std::printf("https fetch (%s): %.2f MiB/s uninterrupted; %.2f s with one drop at %llu and a resume\n",
              server_.kind().c_str(), mib / full_s, resumed_s, static_cast<unsigned long long>(cut_at));
}

TEST_F(HttpUpload, TheDeviceRefusesTheUrlWithAnotherCa) {
  const std::string src = tmp_ / "small.bin";
  {
    std::FILE* f = std::fopen(src.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("firmware\n", f);
    std::fclose(f);
  }
  auto up = upload({src});
  ASSERT_EQ(up->wait_exit(in(1s)), 0) << up->err();
  std::string url = up->out();
  while (!url.empty() && url.back() == '\n') url.pop_back();
  ASSERT_EQ(url.rfind("https://localhost:", 0), 0u) << url;
  SteadyClock clock;
  agent::HttpsGet get(clock);
  FileSink sink(tmp_ / "x.bin");
  ASSERT_EQ(get.start(url.c_str(), 0, server_.rogue_ca_file().c_str()), hal::Err::Ok);
  EXPECT_EQ(pump_until(get, sink, [] { return false; }), hal::Err::Corrupt);
  EXPECT_NE(std::string(get.error_text()).find("not trusted"), std::string::npos) << get.error_text();
  EXPECT_EQ(sink.received(), 0u);
  // http:// is refused before any connection.
  std::string plain = "http://" + url.substr(8);
  EXPECT_EQ(get.start(plain.c_str(), 0, server_.ca_file().c_str()), hal::Err::InvalidArgument);
}

TEST_F(HttpUpload, AFileOverTheServiceLimitIsRefusedBeforeTheSlot) {
  const std::string big = tmp_ / "big.bin";
  {
    std::FILE* f = std::fopen(big.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  ASSERT_EQ(truncate(big.c_str(), 65 * 1024 * 1024), 0);  // sparse: 65 MiB > 64 MiB
  auto up = upload({big});
  EXPECT_EQ(up->wait_exit(in(1s)), 2) << up->err();
  EXPECT_NE(up->err().find("takes at most 67108864"), std::string::npos) << up->err();
}

TEST_F(HttpUpload, UsageErrors) {
  auto none = upload({});
  EXPECT_EQ(none->wait_exit(in(1s)), 2);
  EXPECT_NE(none->err().find("upload needs a FILE"), std::string::npos) << none->err();
  auto missing = upload({tmp_ / "nope.bin"});
  EXPECT_EQ(missing->wait_exit(in(1s)), 2);
  EXPECT_NE(missing->err().find("nope.bin"), std::string::npos) << missing->err();
}

}  // namespace
