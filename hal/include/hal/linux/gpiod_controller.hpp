// hal::GpioController on the Linux GPIO character device, through libgpiod 1.6
// (the v1 uAPI: /dev/gpiochipN).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hal/gpio.hpp"

namespace hal {
namespace linux_ {

/// How GpiodController asks the kernel for a line.
struct GpioLineRequest {
  enum class Kind : uint8_t { Input, Output, BothEdges };
  Kind kind = Kind::Input;
  /// Input: no bias flag (the line keeps what firmware/device tree set);
  /// InputPullUp / InputPullDown: GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP/_DOWN.
  PinMode bias = PinMode::Input;
  bool initial = false;  ///< Output: the level driven from the request on
};

/// One opened GPIO chip as GpiodController uses it: the few libgpiod calls it
/// makes, behind a seam so unit tests can fake a chip (a build host has no
/// gpio-sim). open_gpiod_chip() is the real one. Calls returning int return 0
/// or an errno value. Lines are requested with the consumer label "xiot".
class GpioChipPort {
 public:
  virtual ~GpioChipPort() = default;
  virtual const char* name() const = 0;   ///< "gpiochip0"
  virtual const char* label() const = 0;  ///< "pinctrl-bcm2711", "9030000.pl061"
  virtual uint32_t line_count() const = 0;
  /// The offset of the line called `line_name`. ENOENT when no line has it.
  virtual int find_line(const char* line_name, uint32_t* offset) = 0;
  /// Whether someone (the kernel or a process, including us) holds the line,
  /// and its consumer label ("" when unknown). `*consumer` lives until the
  /// next call on this port.
  virtual int line_user(uint32_t offset, bool* used, const char** consumer) = 0;
  /// Requests the line as `req` says; a line we hold is released first.
  /// EBUSY: held elsewhere; EINVAL: a flag the kernel does not know (bias
  /// before Linux 5.5).
  virtual int request(uint32_t offset, const GpioLineRequest& req) = 0;
  virtual void release(uint32_t offset) = 0;
  virtual int get_value(uint32_t offset, bool* level) = 0;
  virtual int set_value(uint32_t offset, bool level) = 0;
  /// Copies up to `max` pending edge events of a BothEdges line without
  /// blocking (gpiod_line_event_wait with a zero timeout, then
  /// gpiod_line_event_read); `*n` says how many.
  virtual int read_edges(uint32_t offset, GpioEdge* out, size_t max, size_t* n) = 0;
};

/// Opens `chip` by name ("gpiochip0"), path ("/dev/gpiochip0"), label or
/// number (gpiod_chip_open_lookup). Returns nullptr and sets `*err` (errno)
/// on failure.
using GpioChipOpener = std::unique_ptr<GpioChipPort> (*)(const char* chip, int* err);
/// The libgpiod implementation of GpioChipOpener.
std::unique_ptr<GpioChipPort> open_gpiod_chip(const char* chip, int* err);

/// A GPIO chip's lines as hal::GpioPin objects, numbered by line offset.
/// Levels are physical (no GPIOD_LINE_ACTIVE_STATE_LOW: polarity is the
/// driver's, see hal/gpio.hpp). A pin is requested from the kernel when it is
/// configured (consumer "xiot"), re-requested on each configure() and
/// watch_edges(), and released when the controller goes.
///
/// Errno → Err: ENOENT/ENODEV → NotFound, EBUSY → Busy, EINVAL on a request
/// with a bias → NotSupported, anything else → Io.
class GpiodController final : public GpioController {
 public:
  static constexpr size_t kMaxChipLen = 63;

  /// Copies `chip` (name, path, label or number); nothing is opened yet.
  /// `opener` is the seam (tests); it must stay valid.
  explicit GpiodController(const char* chip, GpioChipOpener opener = &open_gpiod_chip);
  ~GpiodController() override;
  GpiodController(const GpiodController&) = delete;
  GpiodController& operator=(const GpiodController&) = delete;

  /// Opens the chip. Errors: NotFound (no such chip), Io (permission, not a
  /// GPIO chip), InvalidArgument (empty or too long a name).
  Err open();
  /// The line at `offset`; checks that no one else holds it (the request
  /// itself happens at configure()). Errors: NotReady (not open), NotFound
  /// (offset >= line_count()), Busy (claimed here, or held by another
  /// consumer: see holder()), Io.
  Result<GpioPin*> claim(uint32_t offset) override;
  /// The offset of the line named `line_name` (e.g. "GPIO17" on a Raspberry
  /// Pi). Errors: NotReady (not open), NotFound.
  Result<uint32_t> find_line(const char* line_name);
  /// Who holds line `offset` after claim() said Busy: its consumer label, or
  /// "" (unknown, or claimed by this controller). Valid until the next call.
  const char* holder(uint32_t offset);

  /// The kernel's name and label of the open chip ("" before open()).
  const char* chip_name() const;
  const char* chip_label() const;
  uint32_t line_count() const;

 private:
  class Pin;
  char chip_[kMaxChipLen + 1] = {};
  GpioChipOpener opener_;
  std::unique_ptr<GpioChipPort> port_;
  std::unique_ptr<std::unique_ptr<Pin>[]> pins_;  // line_count() slots, filled by claim()
};

}  // namespace linux_
}  // namespace hal
