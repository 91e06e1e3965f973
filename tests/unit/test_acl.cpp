// agent/acl + agent/jid: roles from patterns, case, full JIDs, strangers,
// malformed input.
#include "agent/acl.hpp"

#include <gtest/gtest.h>

#include <string>

#include "agent/jid.hpp"

namespace {

agent::AclConfig fleet() {
  agent::AclConfig acl;
  acl.owners = {"admin@localhost"};
  acl.operators = {"ops@localhost", "*@ops.example"};
  acl.viewers = {"*@localhost"};
  return acl;
}

TEST(Acl, RolesTable) {
  using agent::Role;
  const agent::AclConfig acl = fleet();
  const struct {
    const char* jid;
    Role role;
  } cases[] = {
      {"admin@localhost", Role::Owner},
      {"admin@localhost/phone", Role::Owner},
      {"Admin@LocalHost/Phone", Role::Owner},
      {"admin@localhost./x", Role::Owner},  // trailing dot on the domain is ignored
      {"admin@localhost/res/with@at", Role::Owner},
      {"ops@localhost", Role::Operator},
      {"anyone@ops.example", Role::Operator},
      {"anyone@OPS.EXAMPLE/laptop", Role::Operator},
      {"anyone@sub.ops.example", Role::Stranger},  // *@domain is exact, not subdomains
      {"bob@localhost", Role::Viewer},
      {"bob@otherhost", Role::Stranger},
      {"localhost", Role::Stranger},           // the server itself: no local part
      {"localhost/resource", Role::Stranger},
      {"ops.example", Role::Stranger},
      {"", Role::Stranger},
      {"@localhost", Role::Stranger},
      {"bob@", Role::Stranger},
      {"bob@/res", Role::Stranger},
      {"b ob@localhost", Role::Stranger},
      {"bob@local\nhost", Role::Stranger},
      {"admin@localhost/", Role::Stranger},  // empty resource: malformed
      {"a:b@localhost", Role::Stranger},
  };
  for (const auto& c : cases) EXPECT_EQ(agent::role_of(acl, c.jid), c.role) << c.jid;
  EXPECT_EQ(agent::role_of(acl, nullptr), Role::Stranger);
}

TEST(Acl, HighestRoleWins) {
  agent::AclConfig acl;
  acl.viewers = {"boss@x"};
  acl.owners = {"*@x"};
  EXPECT_EQ(agent::role_of(acl, "boss@x"), agent::Role::Owner);
}

TEST(Acl, PatternsNotLowerCasedStillMatch) {
  agent::AclConfig acl;
  acl.operators = {"OPS@LocalHost"};
  acl.viewers = {"*@LOCALHOST"};
  EXPECT_EQ(agent::role_of(acl, "ops@localhost"), agent::Role::Operator);
  EXPECT_EQ(agent::role_of(acl, "x@localhost"), agent::Role::Viewer);
}

TEST(Acl, MalformedPatternsMatchNothing) {
  agent::AclConfig acl;
  acl.owners = {"", "*", "*@", "admin", "admin@x/res", "@x"};
  EXPECT_EQ(agent::role_of(acl, "admin@x"), agent::Role::Stranger);
  EXPECT_EQ(agent::role_of(acl, "a@x"), agent::Role::Stranger);
}

TEST(Acl, EmptyAclDeniesAll) {
  EXPECT_EQ(agent::role_of(agent::AclConfig{}, "admin@localhost"), agent::Role::Stranger);
}

TEST(Acl, RoleNamesAndOrder) {
  EXPECT_STREQ(agent::role_name(agent::Role::Owner), "owner");
  EXPECT_STREQ(agent::role_name(agent::Role::Operator), "operator");
  EXPECT_STREQ(agent::role_name(agent::Role::Viewer), "viewer");
  EXPECT_STREQ(agent::role_name(agent::Role::Stranger), "stranger");
  EXPECT_TRUE(agent::role_allows(agent::Role::Owner, agent::Role::Operator));
  EXPECT_TRUE(agent::role_allows(agent::Role::Viewer, agent::Role::Viewer));
  EXPECT_FALSE(agent::role_allows(agent::Role::Viewer, agent::Role::Operator));
  EXPECT_FALSE(agent::role_allows(agent::Role::Stranger, agent::Role::Viewer));
}

TEST(Jid, Split) {
  const hal::Result<agent::JidParts> p = agent::split_jid("dev1@example.org/xiot/a@b");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(std::string(p.value().local, p.value().local_len), "dev1");
  EXPECT_EQ(std::string(p.value().domain, p.value().domain_len), "example.org");
  EXPECT_EQ(std::string(p.value().resource, p.value().resource_len), "xiot/a@b");
  const hal::Result<agent::JidParts> d = agent::split_jid("pubsub.localhost");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value().local, nullptr);
  EXPECT_EQ(d.value().resource, nullptr);
  EXPECT_FALSE(agent::split_jid("a@b/").ok());
  EXPECT_FALSE(agent::split_jid(nullptr).ok());
  EXPECT_FALSE(agent::split_jid(("a@" + std::string(1024, 'd')).c_str()).ok());
  EXPECT_TRUE(agent::split_jid(("a@" + std::string(1023, 'd')).c_str()).ok());
}

TEST(Jid, BareProblems) {
  EXPECT_EQ(agent::bare_jid_problem("dev1@localhost"), nullptr);
  EXPECT_EQ(agent::bare_jid_problem("d\xC3\xA9v@example.org"), nullptr);
  EXPECT_STREQ(agent::bare_jid_problem("dev1@localhost/r"), "has a resource");
  EXPECT_STREQ(agent::bare_jid_problem("localhost"), "no '@'");
  EXPECT_STREQ(agent::bare_jid_problem("@localhost"), "empty local part");
  EXPECT_STREQ(agent::bare_jid_problem("a@"), "empty domain");
  EXPECT_STREQ(agent::bare_jid_problem(""), "empty");
  EXPECT_STREQ(agent::bare_jid_problem("a@.x"), "domain starts with '.'");
  EXPECT_EQ(agent::domain_problem("pubsub.localhost"), nullptr);
  EXPECT_EQ(agent::domain_problem("[::1]"), nullptr);
  EXPECT_STREQ(agent::domain_problem("a b"), "contains whitespace or control characters");
}

}  // namespace
