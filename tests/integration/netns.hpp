// A network namespace of the test's own, joined to the host by a veth pair, so
// a fault test can cut an agent's network without touching anything else:
//
//   xiot::test::NetNs ns;                       // xiot-<pid>-<n>, 10.x.y.1 <-> 10.x.y.2
//   DevServer::Options so;
//   so.also_listen = ns.host_ip();              // Prosody also listens on the host end
//   DevServer server(so);
//   Process agent(ns.wrap({binary_path("xiot-agent"), "--config", cfg}));  // xmpp.host = ns.host_ip()
//   ns.cut();      // the host end goes down: packets vanish, no RST, no FIN
//   ns.restore();
//
// Needs root (CAP_NET_ADMIN), as CI has. The destructor deletes the namespace
// (and with it the veth pair). Addresses are in 10.(100+pid%100).(pid/100%250).0/30
// plus a per-object offset, so parallel test binaries do not collide.
#pragma once

#include <string>
#include <vector>

namespace xiot::test {

class NetNs {
 public:
  NetNs();
  ~NetNs();
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;

  const std::string& name() const { return name_; }
  const std::string& host_ip() const { return host_ip_; }  ///< the host end's address
  const std::string& ns_ip() const { return ns_ip_; }      ///< the namespace end's address
  /// argv that runs `argv` inside the namespace (ip netns exec NAME ...).
  std::vector<std::string> wrap(const std::vector<std::string>& argv) const;
  /// Takes the host end of the veth down: the namespace keeps its address and
  /// route, its packets are silently lost (like a cable pulled upstream).
  void cut();
  /// Brings it back up.
  void restore();

 private:
  std::string name_, host_if_, ns_if_, host_ip_, ns_ip_;
};

/// Runs a command (argv), throws std::runtime_error naming it and its output
/// when it fails.
void run_checked(const std::vector<std::string>& argv);

}  // namespace xiot::test
