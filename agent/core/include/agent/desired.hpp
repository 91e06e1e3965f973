// Desired state ("device twin / shadow", docs/desired-state.md): owners and
// operators publish the values they want to item `current` of the device's
// PEP node urn:xiot:desired:0,
//
//   <desired xmlns='urn:xiot:desired:0' version='7'>
//     <value n='relay0.state' vb='true'/>
//     <value n='telemetry.interval_s' v='5'/>
//   </desired>
//
// and the device applies them, value by value in order, through exactly the
// ACL and validation of the `set` command (CommandRouter::desire_channel) or,
// for `telemetry.*` settings, of `configure` (CommandRouter::desire_setting),
// as the item's publisher. It then reports the outcome as a `<desired/>`
// child of its device node (format_desired_report(), docs/wire-format.md).
//
// The session (agent/xmpp) reads the notification into a DesiredItem (fixed
// capacity, limits latched as `error`); this module never sees libstrophe.
// Nothing here allocates per item: the report buffer is the caller's
// (DesiredState owns one, allocated on the first item).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "agent/command_response.hpp"
#include "agent/commands.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"

namespace agent {

/// XML namespace, PEP node and item id of desired state.
constexpr const char* kDesiredXmlns = "urn:xiot:desired:0";
constexpr const char* kDesiredNode = "urn:xiot:desired:0";
constexpr const char* kDesiredItemId = "current";
/// Values one item may carry; an item with more is refused as a whole.
constexpr size_t kDesiredValuesMax = 32;
/// Bytes of the optional `version` attribute (NUL included).
constexpr size_t kDesiredVersionMax = 64;
/// Bytes of the item id (NUL included).
constexpr size_t kDesiredItemIdMax = 64;
/// Bytes of a `<desired/>` report (NUL included): device_description_bound() reserves it.
constexpr size_t kDesiredReportMax = 4096;
/// A per-value error text in the report is cut to this many bytes.
constexpr size_t kDesiredErrorTextMax = 120;

/// The SenML value attribute a `<value/>` carried: v, vb or vs.
enum class DesiredType : uint8_t { Numeric, Boolean, String };

struct DesiredValue {
  char name[kChannelNameMax] = {};  ///< `n`: "relay0.state" or "telemetry.interval_s"
  DesiredType type = DesiredType::Numeric;
  char text[kValueTextMax] = {};    ///< the attribute's text, as published
};

/// One desired item as the session read it. `error` non-empty means the item
/// is malformed or over a limit and is refused as a whole (no value applied).
struct DesiredItem {
  char item_id[kDesiredItemIdMax] = {};
  char version[kDesiredVersionMax] = {};  ///< "" = none given
  /// The item's publisher as the server stamped it (bare JID); "" = the
  /// server did not say (refused: the device cannot check the ACL).
  char publisher[kCommandJidMax + 1] = {};
  DesiredValue values[kDesiredValuesMax];
  size_t count = 0;
  char error[kCommandTextMax] = {};

  /// Empties the item (no values, no error).
  void reset();
  /// Latches the first error (printf format, cut to fit); later ones are ignored.
  void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  /// Appends a value: name `n`, the attribute `type` and its `text`. Over
  /// kDesiredValuesMax, a name longer than a channel name or a text longer
  /// than kValueTextMax - 1 latches an error naming it. Returns whether it was added.
  bool add(const char* n, DesiredType type, const char* text);
};

enum class DesiredResult : uint8_t { Ok, Partial, Refused };
/// "ok" | "partial" | "refused".
const char* desired_result_name(DesiredResult r);

/// Where the session hands desired items it received (the runtime).
class DesiredSink {
 public:
  virtual ~DesiredSink() = default;
  /// `item` is valid for the call only.
  virtual void on_desired(const DesiredItem& item) = 0;
};

/// Applies desired items and keeps the report of the last one.
class DesiredState {
 public:
  /// `router` (borrowed) applies the values as the item's publisher.
  explicit DesiredState(CommandRouter& router);
  ~DesiredState();
  DesiredState(const DesiredState&) = delete;
  DesiredState& operator=(const DesiredState&) = delete;

  /// Checks the publisher (viewer, stranger or unknown: the whole item is
  /// refused), then applies every value in order (a name given more than
  /// once: only its last value, the others are left out of the count): a `telemetry.*` name via
  /// desire_setting() (owner), any other via desire_channel() (operator),
  /// after checking that the value's attribute fits the channel's type
  /// (vb for boolean, v for numeric, vs for string channels). A value
  /// already in force is not applied again (no hardware toggle). `now` is
  /// the report's time. Returns true when the report differs from the
  /// previous one other than by its time (the device node must then be
  /// published again); re-applying the same item with everything in place
  /// returns false.
  bool apply(const DesiredItem& item, hal::WallTime now);

  /// The `<desired/>` report of the last apply(), "" before the first.
  const char* report_xml() const;
  DesiredResult last_result() const { return last_result_; }
  /// Values of the last apply() that moved something (Device::set or a
  /// reconfigure ran); 0 when everything was already in place.
  size_t last_changes() const { return last_changes_; }
  /// Items applied so far (each apply() call).
  uint64_t items() const { return items_; }

 private:
  struct Work;  ///< the report buffers and per-value errors (~15 KiB), allocated on the first item
  CommandRouter& router_;
  std::unique_ptr<Work> work_;
  size_t report_len_ = 0;
  size_t report_at_ = 0;  ///< offset of the `at` attribute (excluded from the comparison)
  DesiredResult last_result_ = DesiredResult::Refused;
  size_t last_changes_ = 0;
  uint64_t items_ = 0;
};

/// One value's failure, for format_desired_report().
struct DesiredValueError {
  const char* name;  ///< the value's `n` (borrowed)
  const char* text;  ///< one line: the `set`/`configure` error text
};

/// What format_desired_report() writes.
struct DesiredReport {
  const char* item_id = "";
  const char* version = "";
  const char* publisher = "";
  DesiredResult result = DesiredResult::Ok;
  size_t applied = 0;  ///< values applied or already in force
  size_t total = 0;    ///< values in the item (a repeated name counted once)
  hal::WallTime at;
  const char* refusal = "";  ///< the whole item's refusal ("" unless result is Refused)
  const DesiredValueError* errors = nullptr;
  size_t error_count = 0;
};

/// `<desired item='current' version='7' publisher='ops@localhost'
/// result='partial' applied='1' of='2' at='1765015200.25'><error
/// n='env0.temperature'>…</error></desired>`, NUL-terminated, every text
/// escaped; `version` and `publisher` are left out when empty; a refused
/// item carries one `<error>` without `n`. Errors that do not fit
/// kDesiredReportMax are counted in an `omitted` attribute of the last one.
/// `*at_offset` (may be null) receives the offset of ` at='`. Returns the
/// length. Errors: Overflow (cap too small for the element itself).
hal::Result<size_t> format_desired_report(char* buf, size_t cap, const DesiredReport& report,
                                          size_t* at_offset = nullptr);

}  // namespace agent
