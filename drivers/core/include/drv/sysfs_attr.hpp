// Reading kernel attributes through hal::SysfsTree: the number formats sysfs
// prints (Documentation/ABI/testing/sysfs-bus-iio, sysfs-class-hwmon,
// sysfs-class-thermal) and the decimal arithmetic the IIO ABI asks for
// ((raw + offset) * scale), without floating point. Shared by the
// kernel-backed drivers (linux,iio, linux,hwmon, linux,thermal-zone,
// maxim,ds18b20).
#pragma once

#include <cstddef>
#include <cstdint>

#include "drv/driver_table.hpp"
#include "drv/value.hpp"
#include "hal/status.hpp"
#include "hal/sysfs_tree.hpp"

namespace drv {

/// mantissa * 10^exponent, as the kernel prints it ("24.260000000" ->
/// {24260000000, -9}).
struct Decimal {
  int64_t mantissa = 0;
  int8_t exponent = 0;
};

/// Parses "[-+]digits[.digits]" followed by nothing but whitespace (the
/// kernel's "\n"). At most 18 significant digits are kept; further fraction
/// digits are dropped (truncation). Errors: Io (empty, not a number,
/// trailing text, an integer part of more than 18 digits).
hal::Result<Decimal> parse_decimal(const char* text);

/// Parses a whole integer ("-12345\n"; hwmon, thermal and w1 print
/// milli-units as integers). Errors: Io (as parse_decimal, or a fraction).
hal::Result<int64_t> parse_integer(const char* text);

/// (raw + offset) * scale * 10^shift, trailing zeros stripped, at most 12
/// fraction digits (rounded half away from zero). `shift` is the unit
/// conversion from the ABI's unit to the SenML one (milli-degrees -> Cel is
/// -3, kPa -> Pa is +3). Errors: Io (the result does not fit 18 digits).
hal::Result<Decimal> scale_value(Decimal raw, Decimal offset, Decimal scale, int shift);

/// The Value a channel reports: numeric, mantissa and exponent of `d`.
Value to_value(Decimal d);

/// Reads the one-line attribute `path` into `buf`, trailing newline removed.
/// Errors: those of SysfsTree::read() (NotFound: gone; Overflow: longer than
/// cap - 1).
hal::Err read_line(hal::SysfsTree& tree, const char* path, char* buf, size_t cap);
/// read_line() + parse_decimal(). Errors: as both (Io for malformed text).
hal::Result<Decimal> read_decimal(hal::SysfsTree& tree, const char* path);
/// read_line() + parse_integer(). Errors: as both (Io for malformed text).
hal::Result<int64_t> read_integer(hal::SysfsTree& tree, const char* path);

/// Finds an entry named like `prefix` followed by a decimal number N
/// ("iio:device", "hwmon", "thermal_zone") in directory `dir` whose attribute
/// `key_attr` equals `key` (when `key` is non-null; the lowest N wins when
/// several match) or whose N equals `index` (when `key` is null). Writes
/// the entry's name to `out`. Errors: NotFound (no such entry, or no such
/// directory), Io (listing failed), Overflow (`cap` too small).
hal::Err find_numbered_entry(hal::SysfsTree& tree, const char* dir, const char* prefix, const char* key_attr,
                             const char* key, uint32_t index, char* out, size_t cap);

/// A device chosen by name or number: the parameter `key` is either text (a
/// name of 1..max_len characters without '/', stored in *name; it points into
/// `config` and is only valid during the factory call) or an integer
/// 0..65535 (*name = null, *index = it). `what_name` and `what_number` say
/// what they mean in messages ("the IIO device's name (\"bme280\")",
/// "iio:deviceN"). Required. Returns false and fills `error` on a bad value.
bool param_device_selector(const DeviceConfig& config, const char* key, const char* what_name,
                           const char* what_number, size_t max_len, const char** name, uint32_t* index,
                           DriverError* error);

// --- "channels": the board's choice of discovered channels ---

/// Reads the optional text parameter "channels" ("temperature,pressure":
/// distinct names of [a-z0-9_-], 1..max_name_len each, at most max_count)
/// into `out` ("" when absent). Returns false and fills `error` on a bad value.
bool param_channel_list(const DeviceConfig& config, size_t max_count, size_t max_name_len, char* out, size_t cap,
                        DriverError* error);
/// Position of `quantity` in a comma-separated `list`, or -1.
int channel_list_index(const char* list, const char* quantity);
/// Number of names in `list` (0 for "").
size_t channel_list_count(const char* list);
/// Name number `i` of `list` into `out` ("" when out of range).
void channel_list_name(const char* list, size_t i, char* out, size_t cap);

}  // namespace drv
