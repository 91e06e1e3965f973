// libFuzzer target: what the kernel-backed drivers parse out of sysfs
// (drv/sysfs_attr.hpp numbers and the IIO arithmetic; the DS18B20's
// w1_slave/temperature text through a one-attribute in-memory tree). The
// first byte picks the parser. Any crash, sanitizer finding or broken
// invariant (a trap) is a bug; rejecting text with an error is expected.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "drv/sysfs_attr.hpp"
#include "ds18b20/ds18b20.hpp"
#include "hal/sysfs_tree.hpp"

namespace {

/// Every read returns `text`; every listing shows `entry`.
class OneAttributeTree final : public hal::SysfsTree {
 public:
  OneAttributeTree(const std::string& text, const char* entry) : text_(text), entry_(entry) {}
  hal::Result<size_t> read(const char*, char* buf, size_t cap) override {
    if (text_.size() > cap - 1) return hal::Err::Overflow;
    std::memcpy(buf, text_.c_str(), text_.size() + 1);
    return std::strlen(buf);  // stops at an embedded NUL, like a C reader would
  }
  hal::Err list(const char*, Visitor visit, void* context) override {
    (void)visit(context, entry_);
    return hal::Err::Ok;
  }

 private:
  std::string text_;
  const char* entry_;
};

void check_decimal(const hal::Result<drv::Decimal>& d) {
  if (!d.ok()) return;
  const int64_t m = d.value().mantissa;
  if (m > 999999999999999999LL || m < -999999999999999999LL) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
    case 1: {
      OneAttributeTree tree(text, data[0] % 3 == 0 ? "w1_slave" : "temperature");
      drv::Ds18b20 dev("probe0", tree, "28-0000075a2b1c");
      if (dev.init() != hal::Err::Ok) __builtin_trap();
      const hal::Err e = dev.sample();
      if (e == hal::Err::Ok) {
        const int64_t milli = dev.get(0).value().mantissa;
        if (milli < -55000 || milli > 125000) __builtin_trap();
      } else if (dev.error_detail()[0] == '\0') {
        __builtin_trap();  // every failure says why
      }
      break;
    }
    default: {
      const hal::Result<drv::Decimal> d = drv::parse_decimal(text.c_str());
      check_decimal(d);
      (void)drv::parse_integer(text.c_str());
      if (d.ok()) {
        for (int shift : {-6, -3, 0, 3, 4}) check_decimal(drv::scale_value(d.value(), d.value(), d.value(), shift));
      }
      break;
    }
  }
  return 0;
}
