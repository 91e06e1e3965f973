// agent/senml_pb (hand-written encoder) against the generated protobuf-lite
// code of agent/proto/senml.proto, and the xiotctl decoder.
#include "agent/senml_pb.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "agent/senml_pb_decode.hpp"
#include "senml.pb.h"

namespace {

using agent::Sample;
using agent::Snapshot;
using drv::Value;

Value num(int64_t m, int8_t e) { return Value::numeric(m, e); }
Value text(const char* s) {
  Value v;
  v.type = drv::ValueType::String;
  const size_t n = std::min(std::strlen(s), sizeof v.text - 1);
  std::memcpy(v.text, s, n);
  v.text[n] = '\0';
  return v;
}

/// The same records built through the generated API.
std::string reference_bytes(const char* bn, const std::vector<Snapshot>& snaps) {
  xiot::senml::Pack pack;
  bool first = true;
  const Snapshot* base = nullptr;
  for (const Snapshot& s : snaps) {
    if (s.count == 0) continue;
    if (base == nullptr) base = &s;
    for (size_t i = 0; i < s.count; ++i) {
      xiot::senml::Record* r = pack.add_records();
      if (first) {
        r->set_bn(bn);
        r->set_bt_us(s.time.unix_us);
        first = false;
      }
      r->set_n(s.samples[i].name);
      if (s.samples[i].unit != nullptr) r->set_u(s.samples[i].unit);
      const Value& v = s.samples[i].value;
      switch (v.type) {
        case drv::ValueType::Numeric:
          r->mutable_v()->set_mantissa(v.mantissa);
          r->mutable_v()->set_exponent(v.exponent);
          break;
        case drv::ValueType::Boolean: r->set_vb(v.flag); break;
        case drv::ValueType::String: r->set_vs(v.text); break;
      }
      r->set_t_us(s.time.unix_us - base->time.unix_us);
    }
  }
  return pack.SerializeAsString();
}

std::vector<Snapshot> sample_batch(std::vector<std::vector<Sample>>* storage) {
  storage->clear();
  storage->push_back({{"env0.temperature", "Cel", num(2154, -2)},
                      {"env0.pressure", "Pa", num(101325, 0)},
                      {"relay0.state", "", Value::boolean(true)},
                      {"sys0.fw", "", text("0.1.0 <beta>")}});
  storage->push_back({{"env0.temperature", "Cel", num(INT64_MIN, -128)},
                      {"env0.pressure", "Pa", num(INT64_MAX, 127)},
                      {"relay0.state", "", Value::boolean(false)},
                      {"sys0.fw", "", text("")}});
  storage->push_back({{"env0.temperature", "Cel", num(0, 0)}, {"env0.humidity", "%RH", num(-1, -1)}});
  return {{hal::WallTime{1763900000250000}, (*storage)[0].data(), 4},
          {hal::WallTime{1763900010250000}, (*storage)[1].data(), 4},
          {hal::WallTime{1763899999000000}, (*storage)[2].data(), 2}};
}

TEST(SenmlPb, EncoderMatchesGeneratedCodeByteForByte) {
  std::vector<std::vector<Sample>> storage;
  const std::vector<Snapshot> snaps = sample_batch(&storage);
  uint8_t buf[1024];
  const hal::Result<size_t> r = agent::encode_senml_pb(buf, sizeof buf, "dev1_localhost:", snaps.data(), snaps.size());
  ASSERT_TRUE(r.ok());
  const std::string mine(reinterpret_cast<const char*>(buf), r.value());
  EXPECT_EQ(mine, reference_bytes("dev1_localhost:", snaps));
}

TEST(SenmlPb, GeneratedCodeParsesEncoderOutput) {
  std::vector<std::vector<Sample>> storage;
  const std::vector<Snapshot> snaps = sample_batch(&storage);
  uint8_t buf[1024];
  const hal::Result<size_t> r = agent::encode_senml_pb(buf, sizeof buf, "d:", snaps.data(), snaps.size());
  ASSERT_TRUE(r.ok());
  xiot::senml::Pack pack;
  ASSERT_TRUE(pack.ParseFromArray(buf, static_cast<int>(r.value())));
  ASSERT_EQ(pack.records_size(), 10);
  EXPECT_EQ(pack.records(0).bn(), "d:");
  EXPECT_EQ(pack.records(0).bt_us(), 1763900000250000);
  EXPECT_FALSE(pack.records(1).has_bn());
  EXPECT_EQ(pack.records(4).v().mantissa(), INT64_MIN);
  EXPECT_EQ(pack.records(4).v().exponent(), -128);
  EXPECT_EQ(pack.records(4).t_us(), 10000000);
  EXPECT_EQ(pack.records(6).value_case(), xiot::senml::Record::kVb);
  EXPECT_FALSE(pack.records(6).vb());
  EXPECT_EQ(pack.records(7).value_case(), xiot::senml::Record::kVs);
  EXPECT_EQ(pack.records(8).value_case(), xiot::senml::Record::kV);  // zero still present
  EXPECT_EQ(pack.records(9).t_us(), -1250000);
}

TEST(SenmlPb, RoundTripThroughXmlWrapperAndDecoder) {
  std::vector<std::vector<Sample>> storage;
  const std::vector<Snapshot> snaps = sample_batch(&storage);
  char xml[2048];
  const hal::Result<size_t> r = agent::format_senml_pb(xml, sizeof xml, "dev1_localhost:", snaps.data(), snaps.size());
  ASSERT_TRUE(r.ok());
  const std::string s(xml, r.value());
  EXPECT_EQ(s.rfind("<senml-pb xmlns='urn:xiot:senml-pb:0'>", 0), 0u);
  EXPECT_EQ(s.substr(s.size() - 11), "</senml-pb>");

  std::vector<agent::DecodedRecord> out;
  ASSERT_EQ(agent::decode_senml_pb(xml, r.value(), &out), hal::Err::Ok);
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(out[0].base_name, "dev1_localhost:");
  EXPECT_EQ(out[0].name, "env0.temperature");
  EXPECT_EQ(out[0].unit, "Cel");
  EXPECT_EQ(out[0].time_us, 1763900000250000);
  EXPECT_EQ(out[0].type, drv::ValueType::Numeric);
  EXPECT_EQ(out[0].mantissa, 2154);
  EXPECT_EQ(out[0].exponent, -2);
  EXPECT_EQ(out[2].type, drv::ValueType::Boolean);
  EXPECT_TRUE(out[2].flag);
  EXPECT_EQ(out[3].type, drv::ValueType::String);
  EXPECT_EQ(out[3].text, "0.1.0 <beta>");
  EXPECT_EQ(out[4].base_name, "dev1_localhost:");  // bn carries over
  EXPECT_EQ(out[4].time_us, 1763900010250000);
  EXPECT_EQ(out[4].mantissa, INT64_MIN);
  EXPECT_EQ(out[5].mantissa, INT64_MAX);
  EXPECT_EQ(out[5].exponent, 127);
  EXPECT_EQ(out[7].text, "");
  EXPECT_TRUE(out[7].has_value);
  EXPECT_EQ(out[8].mantissa, 0);
  EXPECT_TRUE(out[8].has_value);
  EXPECT_EQ(out[9].unit, "%RH");
  EXPECT_EQ(out[9].time_us, 1763899999000000);

  // Just the base64 text, with line breaks, decodes the same.
  std::string b64 = s.substr(38, s.size() - 38 - 11);
  b64.insert(8, "\n  ");
  std::vector<agent::DecodedRecord> again;
  ASSERT_EQ(agent::decode_senml_pb(b64.data(), b64.size(), &again), hal::Err::Ok);
  EXPECT_EQ(again.size(), 10u);
}

TEST(SenmlPb, DecoderErrors) {
  std::vector<agent::DecodedRecord> out;
  EXPECT_EQ(agent::decode_senml_pb(nullptr, 0, &out), hal::Err::InvalidArgument);
  const char* other = "<sensml xmlns='urn:ietf:params:xml:ns:senml'/>";
  EXPECT_EQ(agent::decode_senml_pb(other, std::strlen(other), &out), hal::Err::InvalidArgument);
  const char* bad64 = "<senml-pb xmlns='urn:xiot:senml-pb:0'>!!!!</senml-pb>";
  EXPECT_EQ(agent::decode_senml_pb(bad64, std::strlen(bad64), &out), hal::Err::Corrupt);
  const uint8_t junk[] = {0x0A, 0x7F, 0x01};  // a record claiming 127 bytes
  EXPECT_EQ(agent::decode_senml_pb_bytes(junk, sizeof junk, &out), hal::Err::Corrupt);
  const char* empty = "<senml-pb xmlns='urn:xiot:senml-pb:0'/>";
  EXPECT_EQ(agent::decode_senml_pb(empty, std::strlen(empty), &out), hal::Err::Ok);
  EXPECT_TRUE(out.empty());
}

TEST(SenmlPb, FormatOverflowAtEveryShortCapacity) {
  const Sample s[] = {{"env0.temperature", "Cel", num(2154, -2)}, {"relay0.state", "", Value::boolean(true)}};
  const Snapshot snaps[] = {{hal::WallTime{1763900000250000}, s, 2}, {hal::WallTime{1763900001250000}, s, 2}};
  char full[512];
  const hal::Result<size_t> r = agent::format_senml_pb(full, sizeof full, "dev1:", snaps, 2);
  ASSERT_TRUE(r.ok());
  for (size_t cap = 0; cap <= r.value(); ++cap) {
    std::vector<char> buf(cap + 1, '#');
    EXPECT_EQ(agent::format_senml_pb(cap == 0 ? nullptr : buf.data(), cap, "dev1:", snaps, 2).error(),
              hal::Err::Overflow);
    EXPECT_EQ(buf[cap], '#') << cap;
  }
  // With exactly enough room the in-place staging still yields the same text.
  std::vector<char> exact(r.value() + 1);
  ASSERT_TRUE(agent::format_senml_pb(exact.data(), exact.size(), "dev1:", snaps, 2).ok());
  EXPECT_STREQ(exact.data(), full);
  uint8_t raw[8];
  EXPECT_EQ(agent::encode_senml_pb(raw, sizeof raw, "dev1:", snaps, 2).error(), hal::Err::Overflow);
}

TEST(SenmlPb, BoundCoversWorstCase) {
  const Sample shape[] = {{"env0.temperature", "Cel", num(0, 0)},
                          {"relay0.state", "", Value::boolean(false)},
                          {"sys0.name", "", text("")}};
  const Sample worst[] = {{"env0.temperature", "Cel", num(INT64_MIN, -128)},
                          {"relay0.state", "", Value::boolean(true)},
                          {"sys0.name", "", text("12345678901234567890123")}};
  std::vector<Snapshot> snaps;
  for (int i = 0; i < 7; ++i) snaps.push_back(Snapshot{hal::WallTime{INT64_MIN / 2 + i * 7}, worst, 3});
  const size_t bound = agent::senml_pb_bound("dev:", shape, 3, snaps.size());
  std::vector<char> buf(bound);
  const hal::Result<size_t> r = agent::format_senml_pb(buf.data(), buf.size(), "dev:", snaps.data(), snaps.size());
  ASSERT_TRUE(r.ok());
  EXPECT_LT(r.value(), bound);
}

// ---- the columnar form (a batch of like snapshots) -----------------------------

/// The columnar Pack of `snaps` (all carrying the same channels) built
/// through the generated API: deltas computed here independently.
std::string reference_columnar(const char* bn, const std::vector<Snapshot>& snaps) {
  xiot::senml::Pack pack;
  std::vector<const Snapshot*> rows;
  for (const Snapshot& s : snaps) {
    if (s.count != 0) rows.push_back(&s);
  }
  pack.set_bn(bn);
  pack.set_bt_us(rows[0]->time.unix_us);
  for (size_t i = 1; i < rows.size(); ++i) {
    pack.add_dt_us(static_cast<int64_t>(static_cast<uint64_t>(rows[i]->time.unix_us) -
                                        static_cast<uint64_t>(rows[i - 1]->time.unix_us)));
  }
  for (size_t c = 0; c < rows[0]->count; ++c) {
    const Sample& f = rows[0]->samples[c];
    xiot::senml::Column* col = pack.add_columns();
    col->set_n(f.name);
    if (f.unit != nullptr) col->set_u(f.unit);
    uint64_t prev = 0;
    for (const Snapshot* r : rows) {
      const Value& v = r->samples[c].value;
      if (v.type == drv::ValueType::Numeric) {
        col->set_exponent(v.exponent);
        col->add_mantissa(static_cast<int64_t>(static_cast<uint64_t>(v.mantissa) - prev));
        prev = static_cast<uint64_t>(v.mantissa);
      } else {
        col->add_vb(v.flag);
      }
    }
  }
  return pack.SerializeAsString();
}

/// Three BME280-like channels and a relay, `n` snapshots 50 ms apart; every
/// third snapshot is followed by an empty one (skipped by both forms).
std::vector<Snapshot> like_batch(std::vector<std::vector<Sample>>* storage, size_t n) {
  storage->clear();
  storage->reserve(n);
  std::vector<Snapshot> snaps;
  int64_t t = 1763900000250000;
  for (size_t i = 0; i < n; ++i) {
    const auto k = static_cast<int64_t>(i);
    storage->push_back({{"env0.temperature", "Cel", num(2154 + (k % 3) - 1, -2)},
                        {"env0.humidity", "%RH", num(401 - k, -1)},
                        {"env0.pressure", "Pa", num(101325 + 7 * k, 0)},
                        {"relay0.state", nullptr, Value::boolean(i % 2 == 0)}});
    snaps.push_back(Snapshot{hal::WallTime{t}, storage->back().data(), 4});
    if (i % 3 == 2) snaps.push_back(Snapshot{hal::WallTime{t + 1}, nullptr, 0});
    t += i == 4 ? -2000000 : 50000;  // the wall clock stepped back once
  }
  return snaps;
}

std::string encode(const char* bn, const std::vector<Snapshot>& snaps) {
  std::vector<uint8_t> buf(65536);
  const hal::Result<size_t> r = agent::encode_senml_pb(buf.data(), buf.size(), bn, snaps.data(), snaps.size());
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::string(reinterpret_cast<const char*>(buf.data()), r.value()) : std::string();
}

TEST(SenmlPbColumnar, EncoderMatchesGeneratedCodeByteForByte) {
  std::vector<std::vector<Sample>> storage;
  for (size_t n : {2u, 3u, 10u, 100u}) {
    const std::vector<Snapshot> snaps = like_batch(&storage, n);
    EXPECT_EQ(encode("dev1_localhost:", snaps), reference_columnar("dev1_localhost:", snaps)) << n;
  }
}

TEST(SenmlPbColumnar, ExtremeValuesWrapAndMatch) {
  std::vector<std::vector<Sample>> storage = {
      {{"a.x", "", num(INT64_MIN, -128)}, {"a.y", "V", num(0, 0)}},
      {{"a.x", "", num(INT64_MAX, -128)}, {"a.y", "V", num(-1, 0)}},
      {{"a.x", "", num(INT64_MIN, -128)}, {"a.y", "V", num(INT64_MAX, 0)}}};
  const std::vector<Snapshot> snaps = {{hal::WallTime{INT64_MAX}, storage[0].data(), 2},
                                       {hal::WallTime{INT64_MIN}, storage[1].data(), 2},
                                       {hal::WallTime{0}, storage[2].data(), 2}};
  const std::string mine = encode("d:", snaps);
  EXPECT_EQ(mine, reference_columnar("d:", snaps));
  std::vector<agent::DecodedRecord> out;
  ASSERT_EQ(agent::decode_senml_pb_bytes(reinterpret_cast<const uint8_t*>(mine.data()), mine.size(), &out),
            hal::Err::Ok);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].time_us, INT64_MAX);
  EXPECT_EQ(out[0].mantissa, INT64_MIN);
  EXPECT_EQ(out[0].exponent, -128);
  EXPECT_EQ(out[2].time_us, INT64_MIN);
  EXPECT_EQ(out[2].mantissa, INT64_MAX);
  EXPECT_EQ(out[3].mantissa, -1);
  EXPECT_EQ(out[4].time_us, 0);
  EXPECT_EQ(out[5].mantissa, INT64_MAX);
  EXPECT_EQ(out[5].unit, "V");
}

TEST(SenmlPbColumnar, DecodesToTheSameRecordsAsTheRowsForm) {
  std::vector<std::vector<Sample>> storage;
  const std::vector<Snapshot> snaps = like_batch(&storage, 10);
  const std::string columnar = encode("dev1_localhost:", snaps);
  const std::string rows = reference_bytes("dev1_localhost:", snaps);
  EXPECT_LT(columnar.size(), rows.size());
  std::vector<agent::DecodedRecord> a;
  std::vector<agent::DecodedRecord> b;
  ASSERT_EQ(agent::decode_senml_pb_bytes(reinterpret_cast<const uint8_t*>(columnar.data()), columnar.size(), &a),
            hal::Err::Ok);
  ASSERT_EQ(agent::decode_senml_pb_bytes(reinterpret_cast<const uint8_t*>(rows.data()), rows.size(), &b),
            hal::Err::Ok);
  ASSERT_EQ(a.size(), 40u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].base_name, b[i].base_name) << i;
    EXPECT_EQ(a[i].name, b[i].name) << i;
    EXPECT_EQ(a[i].unit, b[i].unit) << i;
    EXPECT_EQ(a[i].time_us, b[i].time_us) << i;
    EXPECT_EQ(a[i].type, b[i].type) << i;
    EXPECT_EQ(a[i].mantissa, b[i].mantissa) << i;
    EXPECT_EQ(a[i].exponent, b[i].exponent) << i;
    EXPECT_EQ(a[i].flag, b[i].flag) << i;
    EXPECT_EQ(a[i].has_value, b[i].has_value) << i;
  }
  EXPECT_EQ(a[36].name, "env0.temperature");
  EXPECT_EQ(a[39].name, "relay0.state");
}

TEST(SenmlPbColumnar, UnlikeSnapshotsStayRows) {
  const auto rows_form = [](const std::vector<Snapshot>& snaps) {
    const std::string bytes = encode("d:", snaps);
    xiot::senml::Pack pack;
    EXPECT_TRUE(pack.ParseFromString(bytes));
    EXPECT_EQ(bytes, reference_bytes("d:", snaps));
    return pack.records_size() != 0 && pack.columns_size() == 0 && !pack.has_bn();
  };
  const Sample a[] = {{"env0.temperature", "Cel", num(2154, -2)}, {"env0.humidity", "%RH", num(401, -1)}};
  const Sample only_t[] = {{"env0.temperature", "Cel", num(2154, -2)}};
  const Sample other_exp[] = {{"env0.temperature", "Cel", num(215, -1)}, {"env0.humidity", "%RH", num(401, -1)}};
  const Sample other_unit[] = {{"env0.temperature", "K", num(2154, -2)}, {"env0.humidity", "%RH", num(401, -1)}};
  const Sample other_name[] = {{"env1.temperature", "Cel", num(2154, -2)}, {"env0.humidity", "%RH", num(401, -1)}};
  const Sample str[] = {{"sys0.fw", "", text("1.0")}};
  const hal::WallTime t0{1763900000000000};
  const hal::WallTime t1{1763900001000000};
  EXPECT_TRUE(rows_form({{t0, a, 2}}));                        // one snapshot
  EXPECT_TRUE(rows_form({{t0, a, 2}, {t1, only_t, 1}}));       // a channel missing
  EXPECT_TRUE(rows_form({{t0, a, 2}, {t1, other_exp, 2}}));    // the exponent changed
  EXPECT_TRUE(rows_form({{t0, a, 2}, {t1, other_unit, 2}}));   // the unit changed
  EXPECT_TRUE(rows_form({{t0, a, 2}, {t1, other_name, 2}}));   // another channel
  EXPECT_TRUE(rows_form({{t0, str, 1}, {t1, str, 1}}));        // strings
  EXPECT_TRUE(rows_form({{t0, a, 2}, {t1, nullptr, 0}}));      // one non-empty snapshot
}

TEST(SenmlPbColumnar, BoundCoversWorstCase) {
  const Sample shape[] = {{"env0.temperature", "Cel", num(0, 0)}, {"relay0.state", "", Value::boolean(false)}};
  const Sample lo[] = {{"env0.temperature", "Cel", num(INT64_MIN, -128)}, {"relay0.state", "", Value::boolean(true)}};
  const Sample hi[] = {{"env0.temperature", "Cel", num(INT64_MAX, -128)}, {"relay0.state", "", Value::boolean(true)}};
  for (size_t n : {2u, 7u, 100u}) {
    std::vector<Snapshot> snaps;
    for (size_t i = 0; i < n; ++i) {
      snaps.push_back(Snapshot{hal::WallTime{i % 2 == 0 ? INT64_MIN : INT64_MAX}, i % 2 == 0 ? lo : hi, 2});
    }
    const size_t bound = agent::senml_pb_bound("dev:", shape, 2, n);
    std::vector<char> buf(bound);
    const hal::Result<size_t> r = agent::format_senml_pb(buf.data(), buf.size(), "dev:", snaps.data(), n);
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_LT(r.value(), bound) << n;
  }
}

TEST(SenmlPbColumnar, TheWireFormatExample) {
  // docs/wire-format.md, "Two forms of a Pack": the three-snapshot example.
  const Sample s0[] = {{"env0.temperature", "Cel", num(2154, -2)}, {"relay0.state", "", Value::boolean(true)}};
  const Sample s1[] = {{"env0.temperature", "Cel", num(2160, -2)}, {"relay0.state", "", Value::boolean(true)}};
  const Sample s2[] = {{"env0.temperature", "Cel", num(2160, -2)}, {"relay0.state", "", Value::boolean(false)}};
  const Snapshot snaps[] = {{hal::WallTime{1763900000250000}, s0, 2},
                            {hal::WallTime{1763900010250000}, s1, 2},
                            {hal::WallTime{1763900020250000}, s2, 2}};
  char xml[512];
  const hal::Result<size_t> r = agent::format_senml_pb(xml, sizeof xml, "dev1_localhost:", snaps, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_STREQ(xml,
               "<senml-pb xmlns='urn:xiot:senml-pb:0'>Eg9kZXYxX2xvY2FsaG9zdDoYoKL5jr+QogYiCIDaxAmA2sQJKh8KEGVudjAudGVt"
               "cGVyYXR1cmUSA0NlbBgDIgTUIQwAKhMKDHJlbGF5MC5zdGF0ZSoDAQEA</senml-pb>");
}

TEST(SenmlPbColumnar, DecoderRejectsInconsistentColumns) {
  std::vector<agent::DecodedRecord> out;
  xiot::senml::Pack pack;
  pack.set_bn("d:");
  pack.set_bt_us(1);
  pack.add_dt_us(5);  // two snapshots
  xiot::senml::Column* c = pack.add_columns();
  c->set_n("x");
  c->add_mantissa(1);  // one value
  std::string bytes = pack.SerializeAsString();
  EXPECT_EQ(agent::decode_senml_pb_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out),
            hal::Err::Corrupt);
  c->add_mantissa(1);
  c->add_vb(true);  // both kinds of value
  bytes = pack.SerializeAsString();
  EXPECT_EQ(agent::decode_senml_pb_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out),
            hal::Err::Corrupt);
  c->clear_vb();
  pack.add_records()->set_n("y");  // both forms
  bytes = pack.SerializeAsString();
  EXPECT_EQ(agent::decode_senml_pb_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out),
            hal::Err::Corrupt);
  pack.clear_records();
  bytes = pack.SerializeAsString();
  ASSERT_EQ(agent::decode_senml_pb_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out),
            hal::Err::Ok);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].mantissa, 2);
  EXPECT_EQ(out[1].time_us, 6);
  EXPECT_EQ(out[1].base_name, "d:");
}

TEST(Base64, Rfc4648Vectors) {
  const struct {
    const char* in;
    const char* out;
  } cases[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
               {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& c : cases) {
    char buf[16];
    const hal::Result<size_t> r =
        agent::base64_encode(buf, sizeof buf, reinterpret_cast<const uint8_t*>(c.in), std::strlen(c.in));
    ASSERT_TRUE(r.ok());
    EXPECT_STREQ(buf, c.out);
  }
  char tiny[4];
  EXPECT_EQ(agent::base64_encode(tiny, sizeof tiny, reinterpret_cast<const uint8_t*>("f"), 1).error(),
            hal::Err::Overflow);
}

TEST(Base64, InPlaceFromTail) {
  // 10 bytes staged at out + ceil(10/3) = out + 4 must encode correctly.
  char buf[32] = {};
  const uint8_t data[10] = {0, 1, 2, 3, 250, 251, 252, 253, 254, 255};
  std::memcpy(buf + 4, data, sizeof data);
  const hal::Result<size_t> r =
      agent::base64_encode(buf, sizeof buf, reinterpret_cast<const uint8_t*>(buf + 4), sizeof data);
  ASSERT_TRUE(r.ok());
  char ref[32];
  ASSERT_TRUE(agent::base64_encode(ref, sizeof ref, data, sizeof data).ok());
  EXPECT_STREQ(buf, ref);
}

}  // namespace
