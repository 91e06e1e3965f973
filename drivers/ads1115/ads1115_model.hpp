// Register-level simulation of a TI ADS1115 on I2C (Zephyr-emulator style):
// the real driver runs against it unchanged through hal::sim::SimI2cBus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "ads1115/ads1115.hpp"
#include "drv/model_table.hpp"
#include "hal/sim/i2c_target.hpp"

namespace drv {
namespace sim {

/// What the model does (ADS111x datasheet, TI SBAS444D, section in brackets):
/// - Register map: conversion 0x00 (read-only, reset 0x0000) [9.6.2], config
///   0x01 (reset 0x8583) [9.6.3], Lo_thresh 0x02 (0x8000) and Hi_thresh 0x03
///   (0x7FFF) [9.6.4]; 16-bit registers, MSB first.
/// - Pointer semantics [9.5.3, 9.6.1]: the first byte of a write sets the
///   2-bit pointer (reserved bits 7:2 ignored); a 1-byte write sets only the
///   pointer; a 3-byte write also writes the register; a 2-byte write (half a
///   register) is ignored; bytes after the third are ignored. A read returns
///   the register at the pointer, MSB then LSB (repeated if more is read).
/// - Single-shot conversions [9.4.2]: writing config with OS=1 while idle
///   starts one conversion of the selected MUX input; config reads show OS=0
///   for the next `busy_polls` reads, then the code lands in the conversion
///   register and OS reads 1. In continuous mode (MODE=0) the conversion
///   register follows the selected input on every read.
/// - Codes [9.5.4, "Input Signal Versus Ideal Output Code"]: round(VIN *
///   32768 / FSR), clipped to 0x7FFF / 0x8000; VIN = V(AINp) - V(AINn) for
///   the eight MUX settings, with physical input voltages set per pin.
/// Not modelled: noise, offset and gain error, the input clamp at GND-0.3 V /
/// VDD+0.3 V, the comparator and ALERT/RDY pin, the general-call reset.
class Ads1115Model final : public hal::sim::I2cTarget, public Model {
 public:
  static constexpr const char* kCompatible = "ti,ads1115";

  enum class Access : uint8_t { Read = 1, Write = 2, ReadWrite = 3 };
  static constexpr size_t kMaxFaults = 8;
  /// Busy polls that never end (a stuck conversion).
  static constexpr uint32_t kForever = UINT32_MAX;

  /// Starts as after power-on: registers at reset values, every input 0 V.
  Ads1115Model();

  /// See drv::sim::Model: "ti,ads1115".
  const char* compatible() const override { return kCompatible; }

  /// See hal::sim::I2cTarget.
  hal::Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) override;

  // --- physical values ---
  /// Voltage on AIN`i` (0..3) against GND; other `i` are ignored. A running
  /// single-shot conversion keeps the value it started with.
  void set_input_v(size_t i, double volts);
  double input_v(size_t i) const { return i < ads1115::kInputCount ? inputs_v_[i] : 0.0; }
  /// The datasheet's ideal output code for `vin` at full-scale range `fsr_v`.
  static int16_t ideal_code(double vin, double fsr_v);

  // --- fault injection ---
  /// Every transaction that reads or writes `reg` (a pointer-only write counts
  /// as a write) fails with `err`, until clear_faults(); the model is left
  /// unchanged. Errors: NoSpace (kMaxFaults in use).
  hal::Err fail_register(uint8_t reg, hal::Err err, Access access = Access::ReadWrite);
  void clear_faults();
  /// Config reads that show "busy" (OS=0) after a conversion starts (default
  /// 1; kForever: the conversion never ends).
  void set_busy_polls(uint32_t polls) { busy_polls_ = polls; }
  /// Impersonates a different chip: every read returns `value`, writes are
  /// ignored (`foreign` false: back to an ADS1115).
  void set_foreign(bool foreign, uint16_t value = 0xFFFF) {
    foreign_ = foreign;
    foreign_value_ = value;
  }
  /// Back to the power-on state (registers, pointer, no conversion running).
  void power_on_reset();

  // --- observation ---
  /// Current content of register `reg` (0..3; no side effects).
  uint16_t reg(uint8_t reg) const { return regs_[reg & ads1115::kPointerMask]; }
  uint8_t pointer() const { return pointer_; }
  bool busy() const { return busy_left_ > 0; }
  uint32_t conversion_count() const { return conversions_; }
  uint32_t transfer_count() const { return transfers_; }
  uint32_t ignored_write_count() const { return ignored_writes_; }

 private:
  struct Fault {
    uint8_t reg = 0;
    hal::Err err = hal::Err::Ok;
    Access access = Access::ReadWrite;
  };

  int16_t convert_now() const;
  void write_register(uint8_t reg, uint16_t value);
  uint16_t read_register(uint8_t reg);
  hal::Err fault_for(uint8_t reg, Access access) const;

  uint16_t regs_[4] = {};
  uint8_t pointer_ = 0;
  double inputs_v_[ads1115::kInputCount] = {};
  int16_t pending_code_ = 0;
  uint32_t busy_polls_ = 1;
  uint32_t busy_left_ = 0;
  bool foreign_ = false;
  uint16_t foreign_value_ = 0xFFFF;

  Fault faults_[kMaxFaults];
  size_t fault_count_ = 0;
  uint32_t conversions_ = 0;
  uint32_t transfers_ = 0;
  uint32_t ignored_writes_ = 0;
};

/// `model` as an Ads1115Model when it is one (its compatible() is
/// "ti,ads1115"), else nullptr. For tests and the fleet simulator, which get
/// models through boards::Board::sim_model().
inline Ads1115Model* as_ads1115(Model* model) {
  const bool is_ads1115 = model != nullptr && std::strcmp(model->compatible(), Ads1115Model::kCompatible) == 0;
  return is_ads1115 ? static_cast<Ads1115Model*>(model) : nullptr;
}

// ---- the model table's row (drv/model_table.hpp; ads1115_sim.cpp) ------------

/// SimParser of "ti,ads1115". Keys of the board file's "sim" object, each
/// optional: "present" (true/false: false = the chip does not answer on the
/// bus) and "ain0_v" .. "ain3_v" (-0.3..5.5: volts on each input against
/// GND, from GND - 0.3 V, the absolute maximum, §7.1, to the highest supply,
/// 5.5 V, §7.3).
bool parse_ads1115_sim(const json::Value& sim, SimParams* out);
/// ModelFactory of "ti,ads1115": an Ads1115Model with the input voltages
/// applied, attached at site.i2c/address unless "present" is false. No model
/// when the device has no I2C bus (site.i2c null). Errors: NoSpace (out of memory).
hal::Err create_ads1115_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out);

}  // namespace sim
}  // namespace drv
