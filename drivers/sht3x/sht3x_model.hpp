// Command-level simulation of a Sensirion SHT3x on I2C (Zephyr-emulator
// style): the real driver runs against it unchanged through hal::sim::SimI2cBus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "drv/model_table.hpp"
#include "hal/sim/i2c_target.hpp"
#include "sht3x/sht3x.hpp"

namespace drv {
namespace sim {

/// What the model does (SHT3x-DIS datasheet section in brackets):
/// - Commands are 2-byte writes [4.2]: single shot with and without clock
///   stretching [4.3 table 9], status read and clear [4.11], soft reset
///   [4.9], heater on/off [4.10]. Any other write (unknown command, wrong
///   length) is NACKed and sets the status' "command failed" bit.
/// - Reads [4.4, 4.11]: after a measurement command T msb, T lsb, CRC, RH
///   msb, RH lsb, CRC; after 0xF32D the status msb, lsb, CRC; the CRC is the
///   datasheet's CRC-8 [4.12]. Data is read once: a read with nothing pending
///   is NACKed. A shorter read gets the first bytes, a longer one 0xFF after.
/// - Busy: after a measurement command without clock stretching the chip
///   NACKs the next `measuring_polls` transfers [4.4]; after a soft reset
///   the next `reset_polls` transfers. The values latched are those set when
///   the measurement command arrived. A combined transaction (command,
///   repeated start, read) reads right after the command.
/// - Physical values become raw words by inverting the conversion formulas
///   [4.13] (nearest word), so physical -> model -> driver -> value round
///   trips exactly at the driver's 0.01 resolution.
/// Not modelled: periodic mode, ART, alert limits, write-data CRCs, timing in
/// time (busy is counted in transfers, like the BME280 model's status polls).
class Sht3xModel final : public hal::sim::I2cTarget, public Model {
 public:
  static constexpr const char* kCompatible = "sensirion,sht3x";

  /// Which transfer of a command a fault hits: the command write, the read
  /// that follows it (its data, its busy polls), or both.
  enum class Phase : uint8_t { Command = 1, Read = 2, Both = 3 };
  /// A word whose CRC byte the model sends wrong.
  enum class Word : uint8_t { Temperature, Humidity, Status };
  static constexpr size_t kMaxFaults = 8;
  /// A fault count or busy count that never runs out.
  static constexpr uint32_t kForever = UINT32_MAX;

  /// Starts as after power-on: idle, status 0x8010 (alert pending, reset
  /// detected: table 18 defaults), 25 °C, 50 %RH.
  Sht3xModel();

  /// See drv::sim::Model: "sensirion,sht3x".
  const char* compatible() const override { return kCompatible; }

  /// See hal::sim::I2cTarget.
  hal::Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) override;

  // --- physical values (recompute the raw words) ---
  void set_temperature_c(double celsius);
  void set_humidity_pct(double percent);
  double temperature_c() const { return temperature_c_; }
  double humidity_pct() const { return humidity_pct_; }
  /// Raw words as the chip sends them. Overrides the physical values until
  /// the next physical setter.
  void set_raw(uint16_t s_t, uint16_t s_rh);
  uint16_t raw_temperature() const { return raw_t_; }
  uint16_t raw_humidity() const { return raw_rh_; }

  // --- fault injection ---
  /// The next `count` transfers in `phase` of `command` (e.g.
  /// sht3x::kCmdMeasureHigh, Phase::Read: the result read) fail with `err`
  /// before the chip acts on them. Transfers the chip NACKs as busy come
  /// first and do not count. Errors: NoSpace (kMaxFaults in use).
  hal::Err fail_command(uint16_t command, hal::Err err, Phase phase = Phase::Both, uint32_t count = kForever);
  /// Sends `word`'s CRC byte wrong until clear_faults().
  void corrupt_crc(Word word);
  /// ORs `bits` into every status word read (e.g. reserved bits: another part).
  void set_status_extra_bits(uint16_t bits) { status_extra_ = bits; }
  /// Removes every injected fault, CRC corruption and extra status bit.
  void clear_faults();
  /// Transfers NACKed after a measurement command (default 2).
  void set_measuring_polls(uint32_t polls) { measuring_polls_ = polls; }
  /// Transfers NACKed after a soft reset (default 1).
  void set_reset_polls(uint32_t polls) { reset_polls_ = polls; }

  // --- observation ---
  uint16_t status() const { return status_; }
  uint16_t last_command() const { return last_command_; }
  uint32_t reset_count() const { return resets_; }
  uint32_t measurement_count() const { return measurements_; }
  uint32_t transfer_count() const { return transfers_; }

 private:
  enum class Pending : uint8_t { None, Measurement, Status };
  struct Fault {
    uint16_t command = 0;
    hal::Err err = hal::Err::Ok;
    Phase phase = Phase::Both;
    uint32_t count = 0;
  };

  hal::Err take_fault(uint16_t command, Phase phase);
  hal::Err execute(uint16_t command);
  hal::Err read(uint8_t* rx, size_t rx_len);
  void power_on_reset();

  double temperature_c_ = 25.0;
  double humidity_pct_ = 50.0;
  uint16_t raw_t_ = 0;
  uint16_t raw_rh_ = 0;
  uint16_t latched_t_ = 0;
  uint16_t latched_rh_ = 0;
  uint16_t status_ = 0;
  uint16_t status_extra_ = 0;
  Pending pending_ = Pending::None;
  uint16_t pending_command_ = 0;
  uint16_t last_command_ = 0;

  Fault faults_[kMaxFaults];
  size_t fault_count_ = 0;
  bool bad_crc_[3] = {};
  uint32_t measuring_polls_ = 2;
  uint32_t reset_polls_ = 1;
  uint32_t busy_left_ = 0;
  uint32_t resets_ = 0;
  uint32_t measurements_ = 0;
  uint32_t transfers_ = 0;
};

/// `model` as an Sht3xModel when it is one (its compatible() is
/// "sensirion,sht3x"), else nullptr. For tests and the fleet simulator, which
/// get models through boards::Board::sim_model().
inline Sht3xModel* as_sht3x(Model* model) {
  const bool is_sht3x = model != nullptr && std::strcmp(model->compatible(), Sht3xModel::kCompatible) == 0;
  return is_sht3x ? static_cast<Sht3xModel*>(model) : nullptr;
}

// ---- the model table's row (drv/model_table.hpp; sht3x_sim.cpp) --------------

/// SimParser of "sensirion,sht3x". Keys of the board file's "sim" object, each
/// optional: "present" (true/false: false = the chip does not answer on the
/// bus), "temperature_c" (-40..125) and "humidity_pct" (0..100): the part's
/// range, datasheet §1 tables 1-2.
bool parse_sht3x_sim(const json::Value& sim, SimParams* out);
/// ModelFactory of "sensirion,sht3x": an Sht3xModel with the parameters
/// applied, attached at site.i2c/address unless "present" is false. No model
/// when the device has no I2C bus (site.i2c null). Errors: NoSpace (out of memory).
hal::Err create_sht3x_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out);

}  // namespace sim
}  // namespace drv
