// Threshold alerts evaluated on the device, above the drivers
// (docs/alerts.md): rules ("env0.temperature above 30 hysteresis 0.5 for
// 10"), the engine that runs them over every snapshot the agent reads, and
// the alarm/clear messages it queues for the XEP-0045 room.
//
// Values are compared as exact decimals (drv::Value, integers with a decimal
// exponent): no floating point per reading, no heap after set_rules().
//
// A rule's states:
//   normal  -- the condition (value > threshold for `above`, value <
//              threshold for `below`) became true --> pending
//   pending -- still true on a reading at least for_s after the first true
//              reading --> alarm (an ALARM message); false again --> normal
//              (nothing is said); for_s 0 goes straight to alarm
//   alarm   -- a reading at or past threshold -/+ hysteresis (value <=
//              threshold - hysteresis for `above`, >= threshold + hysteresis
//              for `below`) --> normal (a CLEAR message). for_s does not
//              delay the clearing: hysteresis is what guards it.
// Transitions happen only on readings. A missing reading (the device's
// sample failed, the channel's get() failed, not numeric) neither raises nor
// clears, and a pending rule keeps waiting.
//
// Flapping: besides hysteresis, a rule sends at most one ALARM per
// kMinAlarmIntervalMs (a CLEAR of an alarm the room heard always goes at
// once, so at most one alarm+clear pair per interval). A change that cannot
// be told is counted; when the interval has passed and the room's last word
// differs from the rule's state, tick() queues the current state, and the
// next message of the rule says "(N more changes suppressed)".
//
// Queue: at most kQueueMax messages wait for the room (the session joins it
// after login); when more pile up, the oldest is dropped and counted
// (dropped()). Each message carries the value and wall time of its reading.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/limits.hpp"
#include "drv/registry.hpp"
#include "drv/value.hpp"
#include "hal/clock.hpp"
#include "hal/status.hpp"

namespace agent {

/// Namespace of the <alert/> element in room messages (docs/wire-format.md).
constexpr const char* kAlertXmlns = "urn:xiot:alert:0";

constexpr size_t kAlertRulesMax = static_cast<size_t>(limits::kAlertRules.hi);
constexpr size_t kAlertChannelMax = 64;   ///< bytes of a channel name, NUL included
constexpr size_t kAlertRoomMax = 256;     ///< bytes of the room's bare JID, NUL included
constexpr size_t kAlertNickMax = 256;     ///< bytes of the nick, NUL included
constexpr size_t kAlertLineMax = 160;     ///< bytes of one rule line, NUL included

enum class AlertComparison : uint8_t { Above, Below };

/// "above" | "below".
const char* alert_comparison_name(AlertComparison c);

/// One rule. Numbers are exact decimals (drv::Value, Numeric).
struct AlertRule {
  char channel[kAlertChannelMax] = {};  ///< "env0.temperature"
  AlertComparison comparison = AlertComparison::Above;
  drv::Value threshold = drv::Value::numeric(0, 0);
  drv::Value hysteresis = drv::Value::numeric(0, 0);  ///< >= 0
  uint32_t for_s = 0;                                 ///< limits::kAlertForS
};

/// Equal channel, comparison, numbers (by value: 30 == 30.0) and for_s.
bool same_rule(const AlertRule& a, const AlertRule& b);

/// The room and the rules: what the config's "alerts" section and the
/// `alerts` command set. An empty room with no rules = alerts off.
struct AlertSettings {
  char room[kAlertRoomMax] = {};  ///< bare JID of the XEP-0045 room
  char nick[kAlertNickMax] = {};  ///< "" = the device's bare JID
  AlertRule rules[kAlertRulesMax];
  size_t count = 0;
};

/// Parses one rule line:
///   <channel> (above|below) <number> [hysteresis <number>] [for <seconds>]
/// tokens separated by spaces or tabs; "hysteresis" and "for" in either
/// order, each at most once. <channel> is device.quantity (letters, digits,
/// '_', '-', '.'; shorter than kAlertChannelMax); numbers are decimals
/// (agent/forms.hpp parse_decimal) with |n| <= limits::kAlertValueMax;
/// hysteresis >= 0; seconds a whole number in limits::kAlertForS.
/// Returns true and fills `*out`; false with `why` (NUL-terminated, at most
/// `cap` bytes) saying what is wrong, e.g. "expected 'above' or 'below'
/// after the channel, got 'over'".
bool parse_alert_rule(const char* line, AlertRule* out, char* why, size_t cap);

/// The line parse_alert_rule() reads back: "env0.temperature above 30
/// hysteresis 0.5 for 10" (hysteresis and for only when not zero). Returns
/// the length (NUL-terminated). Errors: Overflow.
hal::Result<size_t> format_alert_rule(char* buf, size_t cap, const AlertRule& rule);

/// Why `rule` cannot run on `reg`, or nullptr when it can (and then *ref and
/// *device_index are set when not null): "no channel 'x' on this board",
/// "'relay0.state' is not numeric". A string literal or `scratch`.
const char* alert_rule_channel_problem(const drv::Registry& reg, const AlertRule& rule, drv::ChannelRef* ref,
                                       size_t* device_index);

/// Compares two Numeric decimals exactly: -1, 0 or 1.
int compare_decimal(const drv::Value& a, const drv::Value& b);

enum class AlertState : uint8_t { Normal, Pending, Alarm };

/// "normal" | "pending" | "alarm".
const char* alert_state_name(AlertState s);

/// One queued room message.
struct AlertEvent {
  uint8_t rule = 0;       ///< index into the engine's settings().rules
  bool alarm = false;     ///< ALARM (true) or CLEAR
  drv::Value value;       ///< the reading that made it
  hal::WallTime at{};     ///< when that reading was taken
  uint32_t suppressed = 0;  ///< changes of this rule not told before it
};

/// Told of every registry sample (TelemetryPublisher::set_sample_observer).
class SampleObserver {
 public:
  virtual ~SampleObserver() = default;
  /// The devices in `devices` (bit i = registry device i) were just sampled
  /// (registry.last_sample_error(i) says how it went).
  virtual void on_sampled(uint32_t devices) = 0;
};

/// The rule engine. Single-threaded; all memory is inside the object.
class AlertEngine final : public SampleObserver {
 public:
  static constexpr size_t kQueueMax = 8;
  static constexpr int64_t kMinAlarmIntervalMs = 60000;

  /// `reg`, `mono`, `wall` are borrowed and must outlive the engine.
  AlertEngine(const drv::Registry& reg, hal::MonotonicClock& mono, hal::WallClock& wall);

  /// Takes a copy of `s`. A rule equal (same_rule()) to one in force keeps
  /// its state, its counters and its place in the queue's messages; every
  /// other rule starts normal. Queued messages of rules that are gone are
  /// dropped. A rule whose channel is not on the board (its device failed at
  /// start) stays inactive: inactive() counts them, the runtime logs them.
  void set_rules(const AlertSettings& s);
  const AlertSettings& settings() const { return settings_; }

  /// SampleObserver: evaluates the rules of the sampled devices.
  void on_sampled(uint32_t devices) override;
  /// Queues the deferred messages whose interval has passed (see the top of
  /// this file). Returns when it next needs to run (far ahead when never).
  hal::MonoTime tick();

  /// Messages waiting for the room, oldest first.
  size_t queued() const { return queue_count_; }
  /// The oldest message; precondition queued() > 0.
  const AlertEvent& front() const { return queue_[queue_head_]; }
  void pop();

  /// Formats `e` as the room message's children: `<body>ALARM ...</body>
  /// <alert xmlns='urn:xiot:alert:0' .../>` (docs/alerts.md), everything
  /// escaped. `device` is the device's bare JID. Returns the length.
  /// Errors: Overflow, InvalidArgument (e.rule out of range).
  hal::Result<size_t> format_message(char* buf, size_t cap, const AlertEvent& e, const char* device) const;

  AlertState state(size_t i) const { return i < settings_.count ? rules_[i].state : AlertState::Normal; }
  /// Rules whose channel is not on the board.
  size_t inactive() const;
  /// Rules in alarm now.
  size_t active_alarms() const;
  /// Messages dropped because the queue was full.
  uint64_t dropped() const { return dropped_; }
  /// Messages queued since construction.
  uint64_t messages() const { return messages_; }

 private:
  struct RuleState {
    const drv::Device* device = nullptr;  ///< null: inactive
    size_t device_index = 0;
    uint8_t channel = 0;
    const char* unit = "";
    drv::Value clear_level;  ///< threshold -/+ hysteresis
    AlertState state = AlertState::Normal;
    hal::MonoTime pending_since{};
    bool told_alarm = false;        ///< what the room heard last
    bool have_alarm_sent = false;
    hal::MonoTime alarm_sent{};     ///< when the last ALARM was queued
    uint32_t suppressed = 0;
    drv::Value last;                ///< the last reading
    hal::WallTime last_at{};
  };
  void evaluate(size_t i, const drv::Value& v, hal::MonoTime now, hal::WallTime at);
  void changed(size_t i, hal::MonoTime now);
  bool may_tell(const RuleState& r, bool alarm, hal::MonoTime now) const;
  void push(size_t i, bool alarm, uint32_t suppressed);

  const drv::Registry& reg_;
  hal::MonotonicClock& mono_;
  hal::WallClock& wall_;
  AlertSettings settings_;
  RuleState rules_[kAlertRulesMax];
  AlertEvent queue_[kQueueMax];
  size_t queue_head_ = 0;
  size_t queue_count_ = 0;
  uint64_t dropped_ = 0;
  uint64_t messages_ = 0;
};

}  // namespace agent
