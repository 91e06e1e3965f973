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
            f + ": pasword: unknown key (did you mean \"password\"?)");
  EXPECT_EQ(error_of(R"({"port":"5222"})"), f + ": port: expected an integer from 1 to 65535, got \"5222\"");
  EXPECT_EQ(error_of(R"({"port":70000})"), f + ": port: expected an integer from 1 to 65535, got 70000");
  EXPECT_EQ(error_of(R"({"jid":5})"), f + ": jid: expected a JID like ops@localhost, got 5");
  EXPECT_EQ(error_of(R"({"password":"a","password_file":"b"})"),
            f + ": password_file: expected either password or password_file, got both");
  EXPECT_EQ(error_of("[1]"), f + ": expected a JSON object at the top level, got an array");
  EXPECT_NE(error_of("{\"jid\": ").find(f + ":1:9: malformed JSON"), std::string::npos);
  ConnectionOptions o;
  try {
    load_operator_config(dir_ + "/missing.json", &o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::Usage);
    EXPECT_NE(std::string(e.what()).find("missing.json: cannot read: No such file"), std::string::npos) << e.what();
  }
}

TEST_F(OptionsTest, RefusesNullEmptyDuplicateAndBadPasswordFiles) {
  const std::string f = dir_ + "/ops.json";
  EXPECT_EQ(error_of(R"({"host":null})"), f + ": host: expected a host name or IP address, got null");
  EXPECT_EQ(error_of(R"({"host":""})"), f + ": host: expected a host name or IP address, got \"\"");
  EXPECT_EQ(error_of(R"({"port":1,"port":2})"), f + ": port: duplicate key");
  EXPECT_EQ(error_of(R"({"password":7})"), f + ": password: expected a non-empty string, got a number");
  write("empty-pw", "\n");
  EXPECT_EQ(error_of(R"({"password_file":"empty-pw"})"),
            f + ": password_file: " + dir_ + "/empty-pw is empty; expected a file holding the password");
  EXPECT_EQ(error_of(R"({"password_file":"nope"})"),
            f + ": password_file: cannot read " + dir_ + "/nope: No such file or directory");
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
