// A tree of small text attributes and directories: what the Linux kernel
// exposes in sysfs (IIO, hwmon, thermal zones, 1-wire). Drivers name
// attributes by their path *relative to the tree's root*, which is the
// kernel's ABI ("bus/iio/devices/iio:device0/in_temp_input",
// "class/thermal/thermal_zone0/temp"); the root itself ("/sys", or a fixture
// directory in tests) is the board's business, never the driver's.
#pragma once

#include <cstddef>

#include "hal/status.hpp"

namespace hal {

class SysfsTree {
 public:
  /// Longest relative path a caller may pass (without the NUL).
  static constexpr size_t kMaxPathLen = 191;
  /// Longest directory entry name handed to a visitor (without the NUL).
  static constexpr size_t kMaxNameLen = 63;

  /// Called once per directory entry ("." and ".." excluded), in the order the
  /// backend finds them (not sorted). `name` is valid only during the call.
  /// Return false to stop the listing early.
  using Visitor = bool (*)(void* context, const char* name);

  virtual ~SysfsTree() = default;

  /// Reads the attribute at `path` (relative, no leading '/', no "..") into
  /// `buf` as NUL-terminated text, the kernel's trailing newline included, and
  /// returns its length. One read per call: sysfs attributes are at most one
  /// page and are produced whole on each read.
  /// Errors: InvalidArgument (absolute path, "..", too long, cap == 0),
  /// NotFound (no such attribute, or its device went away: ENOENT/ENODEV/ENXIO),
  /// Overflow (the text does not fit in cap - 1 bytes), Io (anything else:
  /// permission, EIO from the device, a directory).
  virtual Result<size_t> read(const char* path, char* buf, size_t cap) = 0;

  /// Lists the directory `dir` (relative; "" = the root), calling `visit` for
  /// each entry. Entries whose names are longer than kMaxNameLen are skipped.
  /// Errors: InvalidArgument (as read()), NotFound (no such directory),
  /// Io (not a directory, permission).
  virtual Err list(const char* dir, Visitor visit, void* context) = 0;
};

}  // namespace hal
