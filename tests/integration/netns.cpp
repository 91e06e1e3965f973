// See netns.hpp.
#include "netns.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "harness.hpp"

namespace xiot::test {

void run_checked(const std::vector<std::string>& argv) {
  Process p(argv);
  const auto rc = p.wait_exit(in(std::chrono::seconds(20)));
  if (rc != std::optional<int>(0)) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error("command failed: " + cmd + "\n" + p.describe());
  }
}

NetNs::NetNs() {
  static int counter = 0;
  const int n = counter++;
  const int pid = static_cast<int>(getpid());
  name_ = "xiot-" + std::to_string(pid) + "-" + std::to_string(n);
  host_if_ = "xv" + std::to_string(pid % 1000000) + "h" + std::to_string(n % 10);
  ns_if_ = "xv" + std::to_string(pid % 1000000) + "n" + std::to_string(n % 10);
  const std::string net = "10." + std::to_string(100 + pid % 100) + "." + std::to_string((pid / 100) % 250) + ".";
  host_ip_ = net + std::to_string(4 * (n % 60) + 1);
  ns_ip_ = net + std::to_string(4 * (n % 60) + 2);
  run_checked({"ip", "netns", "add", name_});
  run_checked({"ip", "link", "add", host_if_, "type", "veth", "peer", "name", ns_if_});
  run_checked({"ip", "link", "set", ns_if_, "netns", name_});
  run_checked({"ip", "addr", "add", host_ip_ + "/30", "dev", host_if_});
  run_checked({"ip", "link", "set", host_if_, "up"});
  run_checked({"ip", "netns", "exec", name_, "ip", "addr", "add", ns_ip_ + "/30", "dev", ns_if_});
  run_checked({"ip", "netns", "exec", name_, "ip", "link", "set", ns_if_, "up"});
  run_checked({"ip", "netns", "exec", name_, "ip", "link", "set", "lo", "up"});
}

NetNs::~NetNs() {
  Process del({"ip", "netns", "del", name_});
  (void)del.wait_exit(in(std::chrono::seconds(10)));
  Process link({"ip", "link", "del", host_if_});  // gone with the namespace already, normally
  (void)link.wait_exit(in(std::chrono::seconds(10)));
}

std::vector<std::string> NetNs::wrap(const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {"ip", "netns", "exec", name_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void NetNs::cut() { run_checked({"ip", "link", "set", host_if_, "down"}); }

void NetNs::restore() { run_checked({"ip", "link", "set", host_if_, "up"}); }

}  // namespace xiot::test
