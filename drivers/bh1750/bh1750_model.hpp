// Instruction-level simulation of a ROHM BH1750FVI on I2C (Zephyr-emulator
// style): the real driver runs against it unchanged through hal::sim::SimI2cBus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "bh1750/bh1750.hpp"
#include "drv/model_table.hpp"
#include "hal/clock.hpp"
#include "hal/sim/i2c_target.hpp"
#include "hal/sim/manual_clock.hpp"

namespace drv {
namespace sim {

/// What the model does (BH1750FVI datasheet section in brackets):
/// - Instruction set [Instruction Set Architecture]: Power Down 0x00, Power
///   On 0x01, Reset 0x07 (clears the data register; ignored in Power Down),
///   continuous H/H2/L 0x10/0x11/0x13, one-time H/H2/L 0x20/0x21/0x23 (power
///   down after the measurement), MTreg high 01000_xxx / low 011_xxxxx. Each
///   written byte is one instruction; other bytes are acknowledged and
///   ignored (counted in ignored_count()).
/// - Power state: Power Down at power-up; a measurement instruction powers
///   the part up (as real parts do), a one-time measurement powers it down.
/// - Data register [Read Format]: 2 bytes, high first; 0 after power-up and
///   Reset. A measurement lands in it when it completes; a read before that
///   returns the previous result. Bytes past the second read 0xFF.
/// - Count from the physical illuminance [Measurement sequence example,
///   Adjust measurement result]: lx x 1.2 x MTreg / 69 (H and L), twice that
///   in H-resolution mode2, rounded, saturating at 0xFFFF. The count uses the
///   illuminance and MTreg at the instruction.
/// - Timing: with a clock (set_clock()), a measurement completes after the
///   datasheet's typical time (H: 120 ms, L: 16 ms) x MTreg / 69, or after
///   set_measurement_us() when set; without a clock, at once.
/// Not modelled: L-mode's coarser 4 lx steps (the count is the H-mode count),
/// spectral response, the 0..3 count dark offset, accuracy spread (x0.96..1.44).
class Bh1750Model final : public hal::sim::I2cTarget, public Model {
 public:
  static constexpr const char* kCompatible = "rohm,bh1750";
  static constexpr size_t kMaxFaults = 8;

  /// Starts as after power-up: Power Down, data 0, MTreg 69, 250 lx, no clock.
  Bh1750Model() = default;

  /// See drv::sim::Model: "rohm,bh1750".
  const char* compatible() const override { return kCompatible; }

  /// See hal::sim::I2cTarget.
  hal::Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) override;

  /// Measurements take time on `clock` (read with peek_mono(), so the model
  /// never moves it); null: they complete at once. The clock must outlive the
  /// model or be unset first.
  void set_clock(const hal::sim::ManualClock* clock) { clock_ = clock; }
  /// Overrides the measurement time (0: the datasheet's typical time).
  void set_measurement_us(uint32_t us) { measurement_us_override_ = us; }

  // --- physical value ---
  void set_lux(double lux) { lux_ = lux < 0 ? 0 : lux; }
  double lux() const { return lux_; }
  /// The count a measurement in `mode` at `mtreg` gives for lux().
  uint16_t count_for(bh1750::Mode mode, uint8_t mtreg) const;

  // --- fault injection ---
  /// Every transfer that writes the instruction `opcode` (compared under
  /// `mask`: 0xF8 with 0x40 = any MTreg-high instruction) fails with `err`
  /// and changes nothing, until clear_faults(). Errors: NoSpace (kMaxFaults in use).
  hal::Err fail_instruction(uint8_t opcode, hal::Err err, uint8_t mask = 0xFF);
  /// Every transfer that reads fails with `err` once `after` more reads have
  /// succeeded, until clear_faults().
  void fail_reads(hal::Err err, uint32_t after = 0);
  void clear_faults();
  /// Reset leaves the data register as it is (a part that is not a BH1750).
  void set_ignore_reset(bool ignore) { ignore_reset_ = ignore; }

  // --- observation ---
  bool powered() const { return powered_; }
  bool measuring() const { return pending_; }
  uint8_t mtreg() const { return mtreg_; }
  uint16_t data() const { return data_; }
  uint8_t last_instruction() const { return last_instruction_; }
  uint32_t reset_count() const { return resets_; }
  uint32_t measurement_count() const { return measurements_; }
  uint32_t read_count() const { return reads_; }
  uint32_t ignored_count() const { return ignored_; }
  uint32_t transfer_count() const { return transfers_; }

 private:
  struct Fault {
    uint8_t opcode = 0;
    uint8_t mask = 0xFF;
    hal::Err err = hal::Err::Ok;
  };

  hal::MonoTime now() const;
  uint32_t measurement_us(bh1750::Mode mode) const;
  void start(bh1750::Mode mode, bool continuous);
  void settle();
  void execute(uint8_t opcode);

  const hal::sim::ManualClock* clock_ = nullptr;
  uint32_t measurement_us_override_ = 0;
  double lux_ = 250.0;

  bool powered_ = false;
  uint8_t mtreg_ = bh1750::kMtregDefault;
  uint16_t data_ = 0;
  bool pending_ = false;
  bool continuous_ = false;
  bh1750::Mode pending_mode_ = bh1750::Mode::High;
  uint16_t pending_count_ = 0;
  hal::MonoTime pending_done_{};

  Fault faults_[kMaxFaults];
  size_t fault_count_ = 0;
  hal::Err read_fault_ = hal::Err::Ok;
  uint32_t reads_before_fault_ = 0;
  bool ignore_reset_ = false;

  uint8_t last_instruction_ = 0;
  uint32_t resets_ = 0;
  uint32_t measurements_ = 0;
  uint32_t reads_ = 0;
  uint32_t ignored_ = 0;
  uint32_t transfers_ = 0;
};

/// `model` as a Bh1750Model when it is one (its compatible() is
/// "rohm,bh1750"), else nullptr. For tests and the fleet simulator, which get
/// models through boards::Board::sim_model().
inline Bh1750Model* as_bh1750(Model* model) {
  const bool is_bh1750 = model != nullptr && std::strcmp(model->compatible(), Bh1750Model::kCompatible) == 0;
  return is_bh1750 ? static_cast<Bh1750Model*>(model) : nullptr;
}

// ---- the model table's row (drv/model_table.hpp; bh1750_sim.cpp) -------------

/// SimParser of "rohm,bh1750". Keys of the board file's "sim" object, each
/// optional: "present" (true/false: false = the chip does not answer on the
/// bus) and "lux" (0..100000: the datasheet's widest range, "min. 0.11 lx,
/// max. 100000 lx" with MTreg adjusted; counts above 0xFFFF saturate).
bool parse_bh1750_sim(const json::Value& sim, SimParams* out);
/// ModelFactory of "rohm,bh1750": a Bh1750Model (measurements complete at
/// once) with the parameters applied, attached at site.i2c/address unless
/// "present" is false. No model when the device has no I2C bus (site.i2c
/// null). Errors: NoSpace (out of memory).
hal::Err create_bh1750_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out);

}  // namespace sim
}  // namespace drv
