// The agent's stderr under systemd: hal::linux_::is_journal_stream() matches
// $JOURNAL_STREAM ("<dev>:<ino>") against fstat(stderr), and the logger then
// writes "<N>" priorities without timestamps (what journald parses). Here
// stderr is redirected to a file this test reads back, and JOURNAL_STREAM is
// set to that file's dev:ino, as systemd does for a service's stream.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/log.hpp"
#include "hal/linux/process.hpp"

namespace {

std::string dev_ino(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return "";
  return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
}

/// Redirects stderr into a temporary file for the life of the object.
class StderrToFile {
 public:
  StderrToFile() {
    char tmpl[] = "/tmp/xiot-journal-XXXXXX";
    fd_ = mkstemp(tmpl);
    path_ = tmpl;
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    dup2(fd_, STDERR_FILENO);
  }
  ~StderrToFile() {
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(fd_);
    unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  std::string text() const {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

class JournalStream : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("JOURNAL_STREAM");
    agent::log_set_journal(false);
  }
};

TEST_F(JournalStream, DetectedOnlyForTheStreamNamedByTheVariable) {
  StderrToFile err;
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(hal::linux_::is_journal_stream(STDERR_FILENO));
  setenv("JOURNAL_STREAM", dev_ino(err.fd()).c_str(), 1);
  EXPECT_TRUE(hal::linux_::is_journal_stream(STDERR_FILENO));
  // Another file: a shell redirected the service's stderr elsewhere.
  const int other = open("/dev/null", O_WRONLY | O_CLOEXEC);
  EXPECT_FALSE(hal::linux_::is_journal_stream(other));
  close(other);
  for (const char* bad : {"", "12", "12:", ":34", "x:y", "1:2:3", "1:2 ", "-1:2"}) {
    setenv("JOURNAL_STREAM", bad, 1);
    EXPECT_FALSE(hal::linux_::is_journal_stream(STDERR_FILENO)) << "JOURNAL_STREAM=" << bad;
  }
  setenv("JOURNAL_STREAM", dev_ino(err.fd()).c_str(), 1);
  EXPECT_FALSE(hal::linux_::is_journal_stream(-1));
}

TEST_F(JournalStream, LinesCarrySyslogPrioritiesAndNoTimestamp) {
  StderrToFile err;
  setenv("JOURNAL_STREAM", dev_ino(err.fd()).c_str(), 1);
  agent::log_set_journal(hal::linux_::is_journal_stream(STDERR_FILENO));
  ASSERT_TRUE(agent::log_journal());
  agent::log_set_level(agent::LogLevel::Debug);
  XLOG_ERROR("agent", "reboot failed: %s", "denied");
  XLOG_WARN("board", "device env1 left out");
  XLOG_INFO("xmpp", "online");
  XLOG_DEBUG("xmpp", "ping");
  agent::log_set_level(agent::LogLevel::Info);
  EXPECT_EQ(err.text(),
            "<3>ERROR agent: reboot failed: denied\n"
            "<4>WARN board: device env1 left out\n"
            "<6>INFO xmpp: online\n"
            "<7>DEBUG xmpp: ping\n");
}

}  // namespace
