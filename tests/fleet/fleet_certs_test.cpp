// `tools/fleet provision --certs`: a fleet whose devices each get their own
// key and certificate (xiot-agent identity new + xiotctl ca sign) and no
// password, logging in with SASL EXTERNAL on the real server (devserver
// --client-ca); the operator sees every one online.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace std::chrono_literals;
using xiot::test::DevServer;
using xiot::test::in;
using xiot::test::Process;
using xiot::test::TempDir;

constexpr int kDevices = 3;

std::string parent(const std::string& p) { return p.substr(0, p.rfind('/')); }

TEST(FleetCerts, ProvisionedWithCertificatesTheFleetLogsInWithoutPasswords) {
  TempDir dir("xiot-fleet-certs");
  {
    Process ca({xiot::test::binary_path("xiotctl"), "ca", "init", dir / "ca"});
    ASSERT_EQ(ca.wait_exit(in(20s)), 0) << ca.describe();
  }
  DevServer::Options o;
  o.client_ca = dir / "ca/ca.crt";
  DevServer server(o);
  Process prov({xiot::test::source_path("tools/fleet"), "provision", "--server-dir", server.dir(), "--count",
                std::to_string(kDevices), "--interval", "0.5", "--agent-configs", dir / "agents", "--certs",
                dir / "ca", "--bin-dir", parent(xiot::test::binary_path("xiot-agent"))});
  ASSERT_EQ(prov.wait_exit(in(120s)), 0) << prov.describe() << server.log_tail();
  EXPECT_NE(prov.out().find("identities: 3 keys, CSRs and certificates"), std::string::npos) << prov.describe();

  std::vector<std::unique_ptr<Process>> agents;
  for (int i = 1; i <= kDevices; ++i) {
    const std::string name = "dev000" + std::to_string(i);
    const std::string cfg = dir / ("agents/" + name + ".json");
    const std::string text = xiot::test::read_file(cfg);
    EXPECT_EQ(text.find("password"), std::string::npos) << text;
    EXPECT_NE(text.find("client_cert"), std::string::npos) << text;
    struct stat st;
    ASSERT_EQ(::stat((dir / ("agents/state/" + name + "/identity/device.key")).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    agents.push_back(std::make_unique<Process>(
        std::vector<std::string>{xiot::test::binary_path("xiot-agent"), "--config", cfg}));
  }
  for (auto& a : agents) {
    ASSERT_TRUE(a->wait_for_output("INFO xmpp: online", in(30s))) << a->describe() << server.log_tail();
  }
  const std::string ops = xiot::test::write_ops_config(server, dir / "ops.json");
  bool all_online = false;
  std::string last;
  (void)xiot::test::wait_until(
      [&] {
        Process devs({xiot::test::binary_path("xiotctl"), "--config", ops, "devices", "--json", "--timeout", "10"});
        (void)devs.wait_exit(in(20s));
        last = devs.describe();
        cJSON* doc = cJSON_Parse(devs.out().c_str());
        const cJSON* counts = cJSON_GetObjectItemCaseSensitive(doc, "counts");
        const cJSON* online = cJSON_GetObjectItemCaseSensitive(counts, "online");
        all_online = cJSON_IsNumber(online) && online->valueint == kDevices;
        cJSON_Delete(doc);
        return all_online;
      },
      in(30s), 200ms);
  EXPECT_TRUE(all_online) << last;
  for (auto& a : agents) {
    a->kill(SIGTERM);
    EXPECT_EQ(a->wait_exit(in(10s)), 0) << a->describe();
  }
}

}  // namespace
