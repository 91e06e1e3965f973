// json::Reader / json::Value (json/reader.hpp): each getter, ranges, optional
// vs required, unknown and duplicate keys, nested paths and the one message
// format "<file>: <key>: <what>".
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "json/reader.hpp"

namespace {

/// A Reader over `text`, named "f.json". Parsing must succeed.
struct Doc {
  explicit Doc(const std::string& text) : r("f.json") { ok = r.parse(text.data(), text.size()); }
  json::Value root() const { return r.root(); }
  json::Reader r;
  bool ok = false;
};

std::string parse_error(const std::string& text) {
  json::Reader r("f.json");
  EXPECT_FALSE(r.parse(text.data(), text.size()));
  return r.error();
}

TEST(Json, ParseErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error(""), "f.json: empty file; expected a JSON object");
  EXPECT_EQ(parse_error(" \n\t"), "f.json: empty file; expected a JSON object");
  EXPECT_EQ(parse_error(std::string("{\0}", 3)), "f.json: contains a NUL byte; expected a JSON text");
  EXPECT_EQ(parse_error("{\"x\": {\"a\": 1,}}"), "f.json:1:16: malformed JSON near \"}\"");
  EXPECT_EQ(parse_error("{\n  \"a\": 1\n  \"b\": 2\n}"), "f.json:3:3: malformed JSON near \"\\\"b\\\": 2\"");
  EXPECT_EQ(parse_error("{\"a\": "), "f.json:1:7: malformed JSON at end of file");
  EXPECT_EQ(parse_error("{} x"), "f.json:1:4: malformed JSON near \"x\"");
  EXPECT_EQ(parse_error("[1]"), "f.json: expected a JSON object at the top level, got an array");
  EXPECT_EQ(parse_error("\"s\""), "f.json: expected a JSON object at the top level, got \"s\"");
}

TEST(Json, CommentsOnlyWhenAllowed) {
  const std::string text = "// head\n{\"a\": /* one */ 1, \"s\": \"//x/*y*/\"}\n";
  // Strict JSON (board files, the fleet file): a comment is malformed JSON.
  EXPECT_EQ(parse_error(text), "f.json:1:1: malformed JSON near \"// head\"");
  json::Reader r("f.json");
  ASSERT_TRUE(r.parse(text.data(), text.size(), json::kAllowComments)) << r.error();
  int64_t a = 0;
  std::string s;
  EXPECT_TRUE(r.root()["a"].integer(&a, 0, 9));
  EXPECT_EQ(a, 1);
  EXPECT_TRUE(r.root()["s"].text(&s));
  EXPECT_EQ(s, "//x/*y*/");
  // Positions after a comment are those of the text as written.
  const std::string bad = "/* x */ {\"a\": 1\n// y\n  \"b\": 2}";
  json::Reader r2("f.json");
  EXPECT_FALSE(r2.parse(bad.data(), bad.size(), json::kAllowComments));
  EXPECT_EQ(r2.error(), "f.json:3:3: malformed JSON near \"\\\"b\\\": 2}\"");
  const std::string open = "{\"a\": 1} /* never closed";
  json::Reader r3("f.json");
  EXPECT_FALSE(r3.parse(open.data(), open.size(), json::kAllowComments));
  EXPECT_EQ(r3.error(), "f.json:1:10: unterminated /* comment");
}

TEST(Json, ByteOrderMarkIsSkipped) {
  Doc d("\xEF\xBB\xBF{\"a\": 1}");
  ASSERT_TRUE(d.ok) << d.r.error();
  int64_t a = 0;
  EXPECT_TRUE(d.root()["a"].integer(&a, 0, 9));
  EXPECT_EQ(a, 1);
}

TEST(Json, LoadReadsAFileAndNamesReadErrors) {
  char dir[] = "/tmp/xiot-json-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/x.json";
  {
    json::Reader r(path);
    EXPECT_FALSE(r.load(1024, "a test file"));
    EXPECT_EQ(r.error(), path + ": cannot read: No such file or directory");
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("{\"k\": \"v\"}", f);
  std::fclose(f);
  {
    json::Reader r(path);
    ASSERT_TRUE(r.load(1024, "a test file")) << r.error();
    std::string v;
    EXPECT_TRUE(r.root()["k"].text(&v));
    EXPECT_EQ(v, "v");
  }
  {
    json::Reader r(path);
    EXPECT_FALSE(r.load(4, "a test file"));
    EXPECT_EQ(r.error(), path + ": larger than 4 bytes; expected a test file");
  }
  {
    json::Reader r(dir);
    EXPECT_FALSE(r.load(1024, "a test file"));
    EXPECT_EQ(r.error(), std::string(dir) + ": cannot read: Is a directory");
  }
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST(Json, TextOptionalRequiredEmptyAndSecret) {
  Doc d(R"({"s": "hi", "e": "", "n": null, "num": 5})");
  ASSERT_TRUE(d.ok);
  std::string out = "default";
  EXPECT_TRUE(d.root()["absent"].text(&out));
  EXPECT_TRUE(d.root()["n"].text(&out));
  EXPECT_EQ(out, "default") << "absent and null leave the default";
  EXPECT_TRUE(d.root()["s"].text(&out));
  EXPECT_EQ(out, "hi");
  EXPECT_TRUE(d.root()["e"].text(&out, "x", json::kEmptyOk));
  EXPECT_EQ(out, "");

  Doc d1(R"({"e": ""})");
  EXPECT_FALSE(d1.root()["e"].text(&out, "a name"));
  EXPECT_EQ(d1.r.error(), "f.json: e: expected a name, got \"\"");

  Doc d2(R"({"n": null})");
  EXPECT_FALSE(d2.root()["n"].text(&out, "a name", json::kRequired));
  EXPECT_EQ(d2.r.error(), "f.json: n: expected a name, got null");

  Doc d3(R"({})");
  EXPECT_FALSE(d3.root()["x"].text(&out, "a name", json::kRequired));
  EXPECT_EQ(d3.r.error(), "f.json: x: missing; expected a name");

  Doc d4(R"({"pw": 123456})");
  EXPECT_FALSE(d4.root()["pw"].text(&out, "a password", json::kSecret));
  EXPECT_EQ(d4.r.error(), "f.json: pw: expected a password, got a number");
}

TEST(Json, Boolean) {
  Doc d(R"({"t": true, "f": false, "s": "yes"})");
  bool b = false;
  EXPECT_TRUE(d.root()["t"].boolean(&b));
  EXPECT_TRUE(b);
  EXPECT_TRUE(d.root()["f"].boolean(&b));
  EXPECT_FALSE(b);
  EXPECT_TRUE(d.root()["absent"].boolean(&b));
  EXPECT_FALSE(d.root()["s"].boolean(&b));
  EXPECT_EQ(d.r.error(), "f.json: s: expected true or false, got \"yes\"");
}

struct IntCase {
  const char* json;
  bool ok;
  int64_t value;
  const char* error;
};

TEST(Json, IntegerRangeIsInclusiveAndRejectsFractionsAndNonNumbers) {
  const IntCase cases[] = {
      {"1", true, 1, ""},
      {"65535", true, 65535, ""},
      {"0", false, 0, "f.json: v: expected an integer from 1 to 65535, got 0"},
      {"65536", false, 0, "f.json: v: expected an integer from 1 to 65535, got 65536"},
      {"5222.5", false, 0, "f.json: v: expected an integer from 1 to 65535, got 5222.5"},
      {"\"5222\"", false, 0, "f.json: v: expected an integer from 1 to 65535, got \"5222\""},
      {"1e400", false, 0, "f.json: v: expected an integer from 1 to 65535, got inf"},
      {"true", false, 0, "f.json: v: expected an integer from 1 to 65535, got true"},
  };
  for (const IntCase& c : cases) {
    Doc d(std::string("{\"v\": ") + c.json + "}");
    ASSERT_TRUE(d.ok) << c.json;
    uint16_t v = 7;
    EXPECT_EQ(d.root()["v"].integer(&v, 1, 65535), c.ok) << c.json;
    if (c.ok) {
      EXPECT_EQ(v, c.value);
    }
    EXPECT_EQ(d.r.error(), c.error);
  }
}

TEST(Json, NumberRangeAndNamedLowerBound) {
  Doc d(R"({"a": 0.05, "b": 0.049, "c": 2})");
  double v = 10;
  EXPECT_TRUE(d.root()["a"].number(&v, 0.05, 86400));
  EXPECT_DOUBLE_EQ(v, 0.05);
  EXPECT_FALSE(d.root()["b"].number(&v, 0.05, 86400));
  EXPECT_EQ(d.r.error(), "f.json: b: expected a number from 0.05 to 86400, got 0.049");

  Doc d2(R"({"cap": 2})");
  EXPECT_FALSE(d2.root()["cap"].number(&v, 2.5, 86400, json::kOptional, "base"));
  EXPECT_EQ(d2.r.error(), "f.json: cap: expected a number from 2.5 (base) to 86400, got 2");

  Doc d3(R"({})");
  EXPECT_FALSE(d3.root()["x"].number(&v, 1, 2, json::kRequired));
  EXPECT_EQ(d3.r.error(), "f.json: x: missing; expected a number from 1 to 2");
}

enum class Colour { Red, Green, Blue };

TEST(Json, OneOfListsTheChoices) {
  static const json::Choice<Colour> kColours[] = {
      {"red", Colour::Red}, {"green", Colour::Green}, {"blue", Colour::Blue}};
  Doc d(R"({"c": "green", "bad": "Green", "num": 1})");
  Colour c = Colour::Red;
  EXPECT_TRUE(d.root()["c"].one_of(&c, kColours));
  EXPECT_EQ(c, Colour::Green);
  EXPECT_TRUE(d.root()["absent"].one_of(&c, kColours));
  EXPECT_EQ(c, Colour::Green);
  EXPECT_FALSE(d.root()["bad"].one_of(&c, kColours));
  EXPECT_EQ(d.r.error(), "f.json: bad: expected \"red\", \"green\" or \"blue\", got \"Green\"");

  static const json::Choice<int> kTwo[] = {{"a", 1}, {"b", 2}};
  Doc d2(R"({"v": 1})");
  int i = 0;
  EXPECT_FALSE(d2.root()["v"].one_of(&i, kTwo));
  EXPECT_EQ(d2.r.error(), "f.json: v: expected \"a\" or \"b\", got 1");
}

TEST(Json, ObjectKeysUnknownDuplicateAndSuggestions) {
  static const char* const kKeys[] = {"interval_s", "batch_max", "encoding"};
  Doc ok(R"({"t": {"interval_s": 1}})");
  EXPECT_TRUE(ok.root()["t"].object(kKeys));
  EXPECT_TRUE(ok.root()["absent"].object(kKeys));

  Doc typo(R"({"t": {"interval": 1}})");
  EXPECT_FALSE(typo.root()["t"].object(kKeys));
  EXPECT_EQ(typo.r.error(), "f.json: t.interval: unknown key (did you mean \"interval_s\"?)");

  Doc upper(R"({"t": {"ENCODING": 1}})");
  EXPECT_FALSE(upper.root()["t"].object(kKeys));
  EXPECT_EQ(upper.r.error(), "f.json: t.ENCODING: unknown key (did you mean \"encoding\"?)");

  Doc far(R"({"t": {"zzz": 1}})");
  EXPECT_FALSE(far.root()["t"].object(kKeys));
  EXPECT_EQ(far.r.error(), "f.json: t.zzz: unknown key (expected one of: interval_s batch_max encoding)");

  Doc none(R"({"sim": {"present": false}})");
  EXPECT_FALSE(none.root()["sim"].object(nullptr, 0));
  EXPECT_EQ(none.r.error(), "f.json: sim.present: unknown key (none allowed here)");

  Doc dup(R"({"t": {"batch_max": 1, "batch_max": 2}})");
  EXPECT_FALSE(dup.root()["t"].object(kKeys));
  EXPECT_EQ(dup.r.error(), "f.json: t.batch_max: duplicate key");

  Doc dup_any(R"({"p": {"a": 1, "a": 2}})");
  EXPECT_FALSE(dup_any.root()["p"].object_any_keys());
  EXPECT_EQ(dup_any.r.error(), "f.json: p.a: duplicate key");

  Doc not_object(R"({"t": [1]})");
  EXPECT_FALSE(not_object.root()["t"].object(kKeys));
  EXPECT_EQ(not_object.r.error(), "f.json: t: expected an object, got an array");

  Doc top(R"({"boards": 1})");
  static const char* const kTop[] = {"board", "xmpp"};
  EXPECT_FALSE(top.root().object(kTop));
  EXPECT_EQ(top.r.error(), "f.json: boards: unknown key (did you mean \"board\"?)");
}

TEST(Json, NestedPathsThroughObjectsAndArrays) {
  Doc d(R"({"devices": [{"name": "a", "address": 118}, {"name": "b", "address": "x"}],
            "server": {"tls": {"mode": 3}}})");
  ASSERT_TRUE(d.ok);
  const json::Value devices = d.root()["devices"];
  EXPECT_TRUE(devices.array("an array of devices", json::kRequired));
  EXPECT_EQ(devices.size(), 2u);
  std::vector<std::string> paths;
  EXPECT_FALSE(devices.each([&](json::Value dev) {
    paths.push_back(dev.path());
    int64_t a = 0;
    return dev["address"].integer(&a, 8, 0x77);
  }));
  EXPECT_EQ(paths, (std::vector<std::string>{"devices[0]", "devices[1]"}));
  EXPECT_EQ(d.r.error(), "f.json: devices[1].address: expected an integer from 8 to 119, got \"x\"");

  Doc d2(R"({"server": {"tls": {"mode": 3}}})");
  EXPECT_EQ(d2.root()["server"]["tls"]["mode"].path(), "server.tls.mode");
  EXPECT_TRUE(d2.root()["nothing"]["below"].missing());
  EXPECT_EQ(d2.root()["nothing"]["below"].path(), "nothing.below");
  EXPECT_FALSE(d2.root()["nothing"]["below"].text(nullptr, "a thing", json::kRequired));
  EXPECT_EQ(d2.r.error(), "f.json: nothing.below: missing; expected a thing");
}

TEST(Json, EachOverObjectMembersGivesKeys) {
  Doc d(R"({"p": {"a": 1, "b": "x"}})");
  std::string seen;
  EXPECT_TRUE(d.root()["p"].each([&](json::Value m) {
    seen += std::string(m.key()) + "=" + m.path() + ";";
    return true;
  }));
  EXPECT_EQ(seen, "a=p.a;b=p.b;");
}

TEST(Json, OnlyTheFirstErrorIsKept) {
  Doc d(R"({"a": "x", "b": "y"})");
  int64_t v = 0;
  EXPECT_FALSE(d.root()["a"].integer(&v, 0, 1));
  EXPECT_FALSE(d.root()["b"].integer(&v, 0, 1));
  EXPECT_EQ(d.r.error(), "f.json: a: expected an integer from 0 to 1, got \"x\"");
  EXPECT_FALSE(d.root()["absent"].integer(&v, 0, 1)) << "getters refuse once an error is recorded";
}

TEST(Json, DescribeQuotesEscapesAndShortens) {
  const std::string long_text(100, 'a');
  Doc d("{\"c\": \"a\\nb\\\"\", \"l\": \"" + long_text + "\", \"n\": 0.1, \"o\": {}, \"t\": true}");
  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.root()["c"].describe(), "\"a\\u000ab\\\"\"");
  EXPECT_EQ(d.root()["l"].describe(), "\"" + std::string(64, 'a') + "...\"");
  EXPECT_EQ(d.root()["n"].describe(), "0.1");
  EXPECT_EQ(d.root()["o"].describe(), "an object");
  EXPECT_EQ(d.root()["t"].describe(json::kSecret), "a boolean");
  EXPECT_EQ(d.root()["none"].describe(), "nothing");
  EXPECT_EQ(json::list_choices(nullptr, 0), "");
}

TEST(Json, ExpectedAndFailUseTheOneFormat) {
  Doc d(R"({"jid": "dev1"})");
  EXPECT_FALSE(d.root()["jid"].expected("a bare JID", "no '@'"));
  EXPECT_EQ(d.r.error(), "f.json: jid: expected a bare JID, got \"dev1\" (no '@')");
  Doc d2(R"({})");
  EXPECT_FALSE(d2.root().fail("something at the top"));
  EXPECT_EQ(d2.r.error(), "f.json: something at the top");
}

TEST(Json, AsIntegerAndIsTrueRecordNothing) {
  Doc d(R"({"i": 3, "f": 1.5, "big": 1e300, "t": true})");
  int64_t v = 0;
  EXPECT_TRUE(d.root()["i"].as_integer(&v));
  EXPECT_EQ(v, 3);
  EXPECT_FALSE(d.root()["f"].as_integer(&v));
  EXPECT_FALSE(d.root()["big"].as_integer(&v));
  EXPECT_TRUE(d.root()["t"].is_true());
  EXPECT_FALSE(d.root()["i"].is_true());
  EXPECT_FALSE(d.r.failed());
}

}  // namespace
