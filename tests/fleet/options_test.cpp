// Operator config files: keys, types, relative paths and precise errors.
#include "fleet/options.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

#include "fleet/error.hpp"

namespace fleet {
namespace {

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/xiot-fleet-opts-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string error_of(const std::string& json) {
    ConnectionOptions o;
    try {
      load_operator_config(write("ops.json", json), &o);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Exit::Usage);
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(OptionsTest, ReadsEveryKeyAndResolvesRelativePaths) {
  write("pw", "s3cret\n");
  ConnectionOptions o;
  load_operator_config(write("ops.json", R"({"jid":"ops@localhost","password_file":"pw",
      "host":"127.0.0.1","port":15222,"ca_file":"certs/ca.crt"})"),
                       &o);
  EXPECT_EQ(o.jid, "ops@localhost");
  EXPECT_EQ(o.password, "s3cret");
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 15222);
  EXPECT_EQ(o.ca_file, dir_ + "/certs/ca.crt");
}

TEST_F(OptionsTest, NamesFileKeyAndProblem) {
  const std::string f = dir_ + "/ops.json";
  EXPECT_EQ(error_of(R"({"jid":"a@b","pasword":"x"})"),
            f + ": key 'pasword': unknown key (known: jid, password, password_file, host, port, ca_file)");
  EXPECT_EQ(error_of(R"({"port":"5222"})"), f + ": key 'port': expected an integer");
  EXPECT_EQ(error_of(R"({"port":70000})"), f + ": key 'port': must be 1-65535");
  EXPECT_EQ(error_of(R"({"jid":5})"), f + ": key 'jid': expected a string");
  EXPECT_EQ(error_of(R"({"password":"a","password_file":"b"})"),
            f + ": key 'password_file': give either password or password_file");
  EXPECT_EQ(error_of("[1]"), f + ": expected a JSON object");
  EXPECT_NE(error_of("{\"jid\": ").find("not valid JSON"), std::string::npos);
  ConnectionOptions o;
  try {
    load_operator_config(dir_ + "/missing.json", &o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::Usage);
    EXPECT_NE(std::string(e.what()).find("missing.json: No such file"), std::string::npos) << e.what();
  }
}

TEST_F(OptionsTest, ValidateWantsAJidPasswordAndReadableCa) {
  ConnectionOptions o;
  o.jid = "ops@localhost";
  o.password = "x";
  EXPECT_NO_THROW(validate_options(o));
  o.jid = "localhost";
  EXPECT_THROW(validate_options(o), Error);
  o.jid = "ops@localhost";
  o.password = "";
  EXPECT_THROW(validate_options(o), Error);
  o.password = "x";
  o.ca_file = dir_ + "/nope.crt";
  EXPECT_THROW(validate_options(o), Error);
}

TEST(Jid, BareAndDomain) {
  EXPECT_EQ(bare_jid("ops@localhost/x/y"), "ops@localhost");
  EXPECT_EQ(jid_domain("ops@localhost/x"), "localhost");
  EXPECT_EQ(jid_domain("localhost"), "localhost");
}

}  // namespace
}  // namespace fleet
