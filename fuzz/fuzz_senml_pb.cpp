// libFuzzer target: the <senml-pb/> decoder shared by xiotctl and the tests
// (agent/senml_pb_decode.hpp), on raw protobuf bytes and on base64 text.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "agent/senml_pb_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<agent::DecodedRecord> out;
  (void)agent::decode_senml_pb_bytes(data, size, &out);
  (void)agent::decode_senml_pb(reinterpret_cast<const char*>(data), size, &out);
  return 0;
}
