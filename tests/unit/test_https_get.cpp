// agent::HttpsGet (and fleet::http_put_file, xiotctl upload's PUT) against a local TLS server (tests/unit/https_range_server.py
// on 127.0.0.1, certificates made by openssl in a scratch directory): full
// download, budgets, resume after a cut connection (206, Prosody's
// Content-Range, a server ignoring Range), and every refusal: wrong CA, host
// name mismatch, http://, redirect, 404, 503, chunked, wrong Content-Range,
// timeout (manual clock).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "agent/https_get.hpp"
#include "agent/https_url_fetcher.hpp"
#include "fleet/error.hpp"
#include "fleet/http_upload.hpp"
#include "harness.hpp"
#include "hal/sim/manual_clock.hpp"

namespace {

using xiot::test::Process;
using xiot::test::TempDir;

class SteadyClock final : public hal::MonotonicClock {
 public:
  hal::MonoTime mono_now() override {
    return hal::MonoTime{std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count()};
  }
};

class MemorySink final : public agent::ByteSink {
 public:
  explicit MemorySink(size_t capacity = SIZE_MAX) : capacity_(capacity) {}
  hal::Err write(uint64_t offset, const uint8_t* data, size_t len) override {
    if (offset != bytes.size()) return hal::Err::InvalidArgument;
    if (bytes.size() + len > capacity_) return hal::Err::NoSpace;
    bytes.insert(bytes.end(), data, data + len);
    ++writes;
    max_write = std::max(max_write, len);
    return hal::Err::Ok;
  }
  uint64_t received() const override { return bytes.size(); }
  std::vector<uint8_t> bytes;
  size_t writes = 0;
  size_t max_write = 0;

 private:
  size_t capacity_;
};

void sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

// One server and its certificates for the whole suite.
class HttpsGetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("xiot-https-get");
    const std::string d = dir_->path();
    const std::string q = " 2>/dev/null";
    auto ca = [&](const std::string& name) {
      sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=" + name +
         " -keyout " + d + "/" + name + ".key -out " + d + "/" + name + ".crt" + q);
    };
    ca("ca");
    ca("rogue");
    {
      std::ofstream ext(d + "/ext");
      ext << "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n";
    }
    sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -keyout " + d +
       "/server.key -out " + d + "/server.csr" + q);
    sh("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d + "/ca.key -set_serial 7 -days 30 -extfile " +
       d + "/ext -out " + d + "/server.crt" + q);
    data_ = new std::vector<uint8_t>(1536 * 1024 + 123);
    std::mt19937 rng(12);
    for (auto& b : *data_) b = static_cast<uint8_t>(rng());
    std::ofstream(d + "/file", std::ios::binary).write(reinterpret_cast<const char*>(data_->data()),
                                                        static_cast<std::streamsize>(data_->size()));
    server_ = new Process({"/usr/bin/python3", xiot::test::source_path("tests/unit/https_range_server.py"),
                           d + "/server.crt", d + "/server.key", d + "/file"});
    std::smatch m;
    ASSERT_TRUE(server_->wait_for_output(std::regex("PORT ([0-9]+)"), xiot::test::in(std::chrono::seconds(10)),
                                         Process::Stream::Out))
        << server_->err();
    std::string out = server_->out();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("PORT ([0-9]+)")));
    port_ = m[1];
  }
  static void TearDownTestSuite() {
    delete server_;
    delete data_;
    delete dir_;
  }

  static std::string url(const std::string& path, const std::string& host = "localhost") {
    return "https://" + host + ":" + port_ + path;
  }
  static std::string ca() { return dir_->path() + "/ca.crt"; }
  static std::string rogue_ca() { return dir_->path() + "/rogue.crt"; }

  // Pumps until the transfer is no longer running (or 20 s pass); waits on the
  // socket between pumps.
  static hal::Err run(agent::HttpsGet& get, agent::ByteSink& sink, size_t budget = 64 * 1024) {
    auto deadline = xiot::test::in(std::chrono::seconds(20));
    hal::Err e = hal::Err::Ok;
    while (get.running() && xiot::test::Clock::now() < deadline) {
      e = get.pump(sink, budget);
      if (e != hal::Err::Ok || !get.running()) break;
      struct pollfd p = {get.fd(), static_cast<short>(POLLIN | POLLOUT), 0};
      (void)poll(&p, 1, 5);
    }
    return get.running() ? hal::Err::Timeout : e;
  }

  static TempDir* dir_;
  static std::vector<uint8_t>* data_;
  static Process* server_;
  static std::string port_;
  SteadyClock clock_;
};

TempDir* HttpsGetTest::dir_ = nullptr;
std::vector<uint8_t>* HttpsGetTest::data_ = nullptr;
Process* HttpsGetTest::server_ = nullptr;
std::string HttpsGetTest::port_;

TEST(HttpsUrl, SplitsHostPortPath) {
  agent::HttpsUrl u;
  const char* why = nullptr;
  ASSERT_EQ(agent::parse_https_url("https://upload.example.org:5281/file_share/ab/x.bin?t=1#frag", u, &why),
            hal::Err::Ok);
  EXPECT_STREQ(u.host, "upload.example.org");
  EXPECT_STREQ(u.port, "5281");
  EXPECT_STREQ(u.path, "/file_share/ab/x.bin?t=1");
  ASSERT_EQ(agent::parse_https_url("HTTPS://localhost", u, &why), hal::Err::Ok);
  EXPECT_STREQ(u.port, "443");
  EXPECT_STREQ(u.path, "/");
}

TEST(HttpsUrl, RefusesWhatItDoesNotFetch) {
  agent::HttpsUrl u;
  const char* why = nullptr;
  EXPECT_EQ(agent::parse_https_url("http://localhost/x", u, &why), hal::Err::InvalidArgument);
  EXPECT_NE(std::string(why).find("http:// refused"), std::string::npos) << why;
  for (const char* bad : {"ftp://h/x", "https://", "https://:443/x", "https://u:p@h/x", "https://h:0/x",
                          "https://h:65536/x", "https://h:12a/x", "https://[::1]/x", "https://h/a b", "https://h_x/"}) {
    EXPECT_EQ(agent::parse_https_url(bad, u, &why), hal::Err::InvalidArgument) << bad;
    EXPECT_STRNE(why, "") << bad;
  }
}

TEST_F(HttpsGetTest, DownloadsTheWholeFileWithinTheBudget) {
  agent::HttpsGet get(clock_);
  MemorySink sink;
  ASSERT_EQ(get.start(url("/file").c_str(), 0, ca().c_str()), hal::Err::Ok) << get.error_text();
  ASSERT_EQ(run(get, sink, 5000), hal::Err::Ok) << get.error_text();
  EXPECT_TRUE(get.done());
  EXPECT_EQ(get.status(), 200);
  EXPECT_EQ(get.total(), data_->size());
  EXPECT_EQ(get.written(), data_->size());
  EXPECT_LE(sink.max_write, 5000u);
  EXPECT_TRUE(sink.bytes == *data_);
  EXPECT_EQ(get.fd(), -1);
}

TEST_F(HttpsGetTest, ResumesWithRangeAfterTheConnectionIsCut) {
  agent::HttpsGet get(clock_);
  MemorySink sink;
  ASSERT_EQ(get.start(url("/cut/400000").c_str(), 0, ca().c_str()), hal::Err::Ok);
  EXPECT_EQ(run(get, sink), hal::Err::Io);
  EXPECT_NE(std::string(get.error_text()).find("short body"), std::string::npos) << get.error_text();
  const uint64_t got = sink.received();
  EXPECT_GT(got, 0u);
  EXPECT_LE(got, 400000u);
  // A second cut, from the middle, then the rest.
  ASSERT_EQ(get.start(url("/cut/300000").c_str(), got, ca().c_str()), hal::Err::Ok);
  EXPECT_EQ(run(get, sink), hal::Err::Io);
  EXPECT_EQ(get.status(), 206);
  EXPECT_GT(sink.received(), got);
  ASSERT_EQ(get.start(url("/file").c_str(), sink.received(), ca().c_str()), hal::Err::Ok);
  ASSERT_EQ(run(get, sink), hal::Err::Ok) << get.error_text();
  EXPECT_EQ(get.status(), 206);
  EXPECT_EQ(get.total(), data_->size());
  EXPECT_TRUE(sink.bytes == *data_);
}

TEST_F(HttpsGetTest, AcceptsProsodysContentRangeEnd) {
  agent::HttpsGet get(clock_);
  MemorySink sink;
  sink.bytes.assign(data_->begin(), data_->begin() + 1000);
  ASSERT_EQ(get.start(url("/file-prosody").c_str(), 1000, ca().c_str()), hal::Err::Ok);
  ASSERT_EQ(run(get, sink), hal::Err::Ok) << get.error_text();
  EXPECT_TRUE(sink.bytes == *data_);
}

TEST_F(HttpsGetTest, DropsWhatItHasWhenTheServerIgnoresRange) {
  agent::HttpsGet get(clock_);
  MemorySink sink;
  sink.bytes.assign(data_->begin(), data_->begin() + 777777);
  ASSERT_EQ(get.start(url("/norange").c_str(), 777777, ca().c_str()), hal::Err::Ok);
  ASSERT_EQ(run(get, sink), hal::Err::Ok) << get.error_text();
  EXPECT_EQ(get.status(), 200);
  EXPECT_EQ(get.written(), data_->size() - 777777);
  EXPECT_TRUE(sink.bytes == *data_);
}

TEST_F(HttpsGetTest, RefusesAResourceOfAnotherSizeThanExpected) {
  agent::HttpsGet get(clock_);
  MemorySink sink;
  ASSERT_EQ(get.start(url("/file").c_str(), 0, ca().c_str(), data_->size() - 1), hal::Err::Ok);
  EXPECT_EQ(run(get, sink), hal::Err::InvalidArgument);
  EXPECT_NE(std::string(get.error_text()).find(std::to_string(data_->size()) + " bytes, " +
                                               std::to_string(data_->size() - 1) + " expected"),
            std::string::npos)
      << get.error_text();
  EXPECT_EQ(sink.received(), 0u);
  // The right size passes, on a resume too.
  sink.bytes.assign(data_->begin(), data_->begin() + 5000);
  ASSERT_EQ(get.start(url("/file").c_str(), 5000, ca().c_str(), data_->size()), hal::Err::Ok);
  ASSERT_EQ(run(get, sink), hal::Err::Ok) << get.error_text();
  EXPECT_TRUE(sink.bytes == *data_);
}

TEST_F(HttpsGetTest, RefusesAWrongContentRange) {
  agent::HttpsGet get(clock_);
  MemorySink sink;
  sink.bytes.assign(data_->begin(), data_->begin() + 10);
  ASSERT_EQ(get.start(url("/badrange").c_str(), 10, ca().c_str()), hal::Err::Ok);
  EXPECT_EQ(run(get, sink), hal::Err::InvalidArgument);
  EXPECT_NE(std::string(get.error_text()).find("wrong Content-Range"), std::string::npos) << get.error_text();
  EXPECT_EQ(sink.received(), 10u);
}

TEST_F(HttpsGetTest, RefusesAServerItsCaDidNotSign) {
  agent::HttpsGet get(clock_);
  MemorySink sink;
  ASSERT_EQ(get.start(url("/file").c_str(), 0, rogue_ca().c_str()), hal::Err::Ok);
  EXPECT_EQ(run(get, sink), hal::Err::Corrupt);
  EXPECT_NE(std::string(get.error_text()).find("not trusted"), std::string::npos) << get.error_text();
  EXPECT_EQ(sink.received(), 0u);
}

TEST_F(HttpsGetTest, RefusesAHostNameTheCertificateDoesNotName) {
  agent::HttpsGet get(clock_);
  MemorySink sink;
  ASSERT_EQ(get.start(url("/file", "127.0.0.1").c_str(), 0, ca().c_str()), hal::Err::Ok);
  EXPECT_EQ(run(get, sink), hal::Err::Corrupt);
  EXPECT_NE(std::string(get.error_text()).find("not trusted"), std::string::npos) << get.error_text();
  EXPECT_EQ(sink.received(), 0u);
}

TEST_F(HttpsGetTest, RefusesPlainHttpAndAMissingCa) {
  agent::HttpsGet get(clock_);
  EXPECT_EQ(get.start(("http://localhost:" + port_ + "/file").c_str(), 0, ca().c_str()),
            hal::Err::InvalidArgument);
  EXPECT_NE(std::string(get.error_text()).find("http:// refused"), std::string::npos) << get.error_text();
  EXPECT_EQ(get.state(), agent::HttpsGet::State::Failed);
  EXPECT_EQ(get.start(url("/file").c_str(), 0, (dir_->path() + "/nope.crt").c_str()), hal::Err::InvalidArgument);
  EXPECT_NE(std::string(get.error_text()).find("nope.crt"), std::string::npos) << get.error_text();
}

TEST_F(HttpsGetTest, ReportsStatusErrorsAndRedirects) {
  struct Case {
    const char* path;
    hal::Err err;
    const char* text;
  };
  for (const Case& c : {Case{"/missing", hal::Err::NotFound, "404 Not Found"},
                        Case{"/error", hal::Err::Busy, "503 Service Unavailable"},
                        Case{"/redirect", hal::Err::NotSupported, "redirect not followed: HTTP/1.1 302"},
                        Case{"/chunked", hal::Err::NotSupported, "chunked"}}) {
    agent::HttpsGet get(clock_);
    MemorySink sink;
    ASSERT_EQ(get.start(url(c.path).c_str(), 0, ca().c_str()), hal::Err::Ok);
    EXPECT_EQ(run(get, sink), c.err) << c.path << ": " << get.error_text();
    EXPECT_NE(std::string(get.error_text()).find(c.text), std::string::npos) << get.error_text();
    EXPECT_EQ(sink.received(), 0u);
  }
}

TEST_F(HttpsGetTest, ReportsARefusedConnection) {
  // A port bound but not listening: the connect is refused.
  int s = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  struct sockaddr_in a {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(s, reinterpret_cast<struct sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(s, reinterpret_cast<struct sockaddr*>(&a), &len), 0);
  agent::HttpsGet get(clock_);
  MemorySink sink;
  const std::string u = "https://localhost:" + std::to_string(ntohs(a.sin_port)) + "/file";
  hal::Err e = get.start(u.c_str(), 0, ca().c_str());
  if (e == hal::Err::Ok) e = run(get, sink);
  close(s);
  EXPECT_EQ(e, hal::Err::Io);
  EXPECT_NE(std::string(get.error_text()).find("cannot connect to localhost"), std::string::npos) << get.error_text();
}

TEST_F(HttpsGetTest, SinkErrorsStopTheTransfer) {
  agent::HttpsGet get(clock_);
  MemorySink sink(100000);
  ASSERT_EQ(get.start(url("/file").c_str(), 0, ca().c_str()), hal::Err::Ok);
  EXPECT_EQ(run(get, sink), hal::Err::NoSpace);
  EXPECT_NE(std::string(get.error_text()).find("storing"), std::string::npos) << get.error_text();
  EXPECT_EQ(get.fd(), -1);
}

TEST_F(HttpsGetTest, TimesOutWhenTheServerStalls) {
  hal::sim::ManualClock manual;
  agent::HttpsGet get(manual, agent::HttpsGet::Options{5000});
  MemorySink sink;
  ASSERT_EQ(get.start(url("/stall").c_str(), 0, ca().c_str()), hal::Err::Ok);
  // Real time passes for the handshake and headers; the manual clock does not.
  ASSERT_TRUE(xiot::test::wait_until(
      [&] { return get.pump(sink, 4096) != hal::Err::Ok || get.state() == agent::HttpsGet::State::Body; },
      xiot::test::in(std::chrono::seconds(10))))
      << get.error_text();
  ASSERT_EQ(get.state(), agent::HttpsGet::State::Body) << get.error_text();
  manual.advance_ms(4999);
  EXPECT_EQ(get.pump(sink, 4096), hal::Err::Ok);
  manual.advance_ms(1);
  EXPECT_EQ(get.pump(sink, 4096), hal::Err::Timeout);
  EXPECT_NE(std::string(get.error_text()).find("waiting for body bytes"), std::string::npos) << get.error_text();
}

// fleet::http_put_file (xiotctl upload's PUT) against the same server.
TEST_F(HttpsGetTest, PutSendsTheFileWithTheSlotsHeaders) {
  fleet::UploadSlot slot;
  slot.put_url = url("/put");
  slot.put_headers = {{"Authorization", "Basic eGlvdA=="}, {"Expires", "1700000000"}};
  const std::string src = dir_->path() + "/file";
  fleet::http_put_file(slot, src, data_->size(), "application/x-xiot-image", ca(),
                       fleet::Clock::now() + std::chrono::seconds(20));
  EXPECT_EQ(xiot::test::read_file(src + ".put"), std::string(data_->begin(), data_->end()));
  const std::string headers = xiot::test::read_file(src + ".put-headers");
  EXPECT_NE(headers.find("Authorization: Basic eGlvdA=="), std::string::npos) << headers;
  EXPECT_NE(headers.find("Content-Type: application/x-xiot-image"), std::string::npos) << headers;
  EXPECT_NE(headers.find("Content-Length: " + std::to_string(data_->size())), std::string::npos) << headers;
}

TEST_F(HttpsGetTest, PutRefusesAnUntrustedServerAndReportsHttpErrors) {
  fleet::UploadSlot slot;
  slot.put_url = url("/put");
  const std::string src = dir_->path() + "/file";
  const auto deadline = fleet::Clock::now() + std::chrono::seconds(20);
  try {
    fleet::http_put_file(slot, src, data_->size(), "application/octet-stream", rogue_ca(), deadline);
    ADD_FAILURE() << "PUT to a server the CA did not sign succeeded";
  } catch (const fleet::Error& e) {
    EXPECT_EQ(e.code(), fleet::Exit::Connect);
    EXPECT_NE(std::string(e.what()).find("not trusted"), std::string::npos) << e.what();
  }
  slot.put_url = url("/put-denied");
  try {
    fleet::http_put_file(slot, src, data_->size(), "application/octet-stream", ca(), deadline);
    ADD_FAILURE() << "a 403 was taken for success";
  } catch (const fleet::Error& e) {
    EXPECT_EQ(e.code(), fleet::Exit::DeviceError);
    EXPECT_NE(std::string(e.what()).find("403 Forbidden"), std::string::npos) << e.what();
  }
  slot.put_url = "http://localhost:" + port_ + "/put";
  EXPECT_THROW(fleet::http_put_file(slot, src, data_->size(), "application/octet-stream", ca(), deadline),
               fleet::Error);
}

// --- agent::HttpsUrlFetcher: the update's URL transport (retries, give-ups) ---

class HttpsUrlFetcherTest : public HttpsGetTest {
 protected:
  static agent::HttpsUrlFetcher::Options fast(uint32_t attempts = 5) {
    agent::HttpsUrlFetcher::Options o;
    o.max_attempts = attempts;
    o.backoff_ms = 20;
    o.budget = 64 * 1024;
    return o;
  }
  // Polls until not active (or 20 s pass); returns the last poll's result.
  static hal::Err drive(agent::HttpsUrlFetcher& f) {
    auto deadline = xiot::test::in(std::chrono::seconds(20));
    hal::Err e = hal::Err::Ok;
    while (f.active() && xiot::test::Clock::now() < deadline) {
      e = f.poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return f.active() ? hal::Err::Timeout : e;
  }
};

TEST_F(HttpsUrlFetcherTest, ACutEveryFewBytesIsResumedWithRangeUntilDone) {
  const std::string ca_file = ca();
  agent::HttpsUrlFetcher f(clock_, ca_file.c_str(), fast(2));
  MemorySink sink;
  char why[200] = {};
  ASSERT_EQ(f.start(url("/cut/300000").c_str(), sink, data_->size(), why, sizeof why), hal::Err::Ok) << why;
  EXPECT_TRUE(f.active());
  // Six connections at least, each one progress: two attempts are never exhausted.
  ASSERT_EQ(drive(f), hal::Err::Ok) << f.error_text();
  EXPECT_FALSE(f.active());
  EXPECT_EQ(sink.bytes, *data_);
  EXPECT_NE(std::string(f.error_text()).find("retrying from byte 1500000"), std::string::npos) << f.error_text();
}

TEST_F(HttpsUrlFetcherTest, AGoneSlotFailsAtOnceAndSaysPushAgain) {
  const std::string ca_file = ca();
  agent::HttpsUrlFetcher f(clock_, ca_file.c_str(), fast());
  MemorySink sink;
  char why[200] = {};
  ASSERT_EQ(f.start(url("/missing").c_str(), sink, data_->size(), why, sizeof why), hal::Err::Ok) << why;
  EXPECT_EQ(drive(f), hal::Err::NotFound);
  EXPECT_EQ(f.attempts(), 1u);
  EXPECT_NE(std::string(f.error_text()).find("404 Not Found"), std::string::npos) << f.error_text();
  EXPECT_NE(std::string(f.error_text()).find("push the update again"), std::string::npos) << f.error_text();
}

TEST_F(HttpsUrlFetcherTest, AServerErrorIsRetriedThenGivesUp) {
  const std::string ca_file = ca();
  agent::HttpsUrlFetcher f(clock_, ca_file.c_str(), fast(3));
  MemorySink sink;
  char why[200] = {};
  ASSERT_EQ(f.start(url("/error").c_str(), sink, data_->size(), why, sizeof why), hal::Err::Ok) << why;
  EXPECT_EQ(drive(f), hal::Err::Busy);
  EXPECT_EQ(f.attempts(), 3u);
  EXPECT_NE(std::string(f.error_text()).find("download failed after 3 attempts: "), std::string::npos)
      << f.error_text();
  EXPECT_TRUE(sink.bytes.empty());
}

TEST_F(HttpsUrlFetcherTest, HttpAndAnUntrustedServerAreRefused) {
  const std::string rogue = rogue_ca();
  agent::HttpsUrlFetcher f(clock_, rogue.c_str(), fast());
  MemorySink sink;
  char why[200] = {};
  EXPECT_EQ(f.start("http://localhost/x", sink, 10, why, sizeof why), hal::Err::InvalidArgument);
  EXPECT_NE(std::string(why).find("http:// refused"), std::string::npos) << why;
  EXPECT_FALSE(f.active());
  ASSERT_EQ(f.start(url("/file").c_str(), sink, data_->size(), why, sizeof why), hal::Err::Ok) << why;
  EXPECT_EQ(drive(f), hal::Err::Corrupt);
  EXPECT_EQ(f.attempts(), 1u);
  EXPECT_NE(std::string(f.error_text()).find("not trusted"), std::string::npos) << f.error_text();
  EXPECT_TRUE(sink.bytes.empty());
}

}  // namespace
