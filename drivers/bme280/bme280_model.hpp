// Register-level simulation of a Bosch BME280 on I2C (Zephyr-emulator style):
// the real driver runs against it unchanged through hal::sim::SimI2cBus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "bme280/bme280.hpp"
#include "drv/model_table.hpp"
#include "hal/sim/i2c_target.hpp"

namespace drv {
namespace sim {

/// What the model does (BME280 datasheet section in brackets):
/// - Full register map: id 0xD0 [5.4.1], reset 0xE0 [5.4.2], calibration
///   0x88..0xA1 and 0xE1..0xE7 [4.2.2], ctrl_hum 0xF2 (latched by the next
///   ctrl_meas write) [5.4.3], status 0xF3 [5.4.4], ctrl_meas 0xF4 [5.4.5],
///   config 0xF5 (writes ignored in normal mode) [5.4.6], data 0xF7..0xFE
///   [5.4.7-9]; writes to read-only registers are ignored.
/// - I2C protocol [6.2]: a write is register/value pairs; an odd trailing byte
///   sets the register pointer; reads auto-increment from the pointer.
/// - Conversions: in normal mode the data registers follow the physical
///   values; a forced-mode write converts once and returns to sleep, with
///   status.measuring set for the next `measuring_polls` status reads. A
///   skipped measurement (oversampling 0) reads 0x80000 / 0x8000.
/// - Physical values are turned into raw ADC values by searching the raw
///   value that the datasheet's integer compensation turns back into the
///   value (closest match), so physical -> model -> driver -> value round
///   trips to the driver's resolution.
/// Not modelled: oversampling noise/resolution, the IIR filter, timing.
class Bme280Model final : public hal::sim::I2cTarget, public Model {
 public:
  static constexpr const char* kCompatible = "bosch,bme280";

  enum class Access : uint8_t { Read = 1, Write = 2, ReadWrite = 3 };
  enum class DataFault : uint8_t {
    None,
    Skipped,  ///< data registers stay at their reset value (no conversion)
    Garbage,  ///< data registers read 0xFF
  };
  static constexpr size_t kMaxFaults = 8;
  /// measuring/im_update polls that never end.
  static constexpr uint32_t kForever = UINT32_MAX;

  /// T and P: the datasheet's example trimming (BMP280/BME280 compensation
  /// example: dig_T1=27504 ... dig_P9=6000). H: typical values of a real
  /// part (H1=75, H2=362, H3=0, H4=313, H5=50, H6=30), as the datasheet has
  /// no humidity example.
  static Bme280Calibration datasheet_calibration();

  /// Starts as after power-on: sleep mode, data at reset values, physical
  /// values 25 °C, 50 %RH, 101325 Pa.
  explicit Bme280Model(const Bme280Calibration& calibration = datasheet_calibration());

  /// See drv::sim::Model: "bosch,bme280".
  const char* compatible() const override { return kCompatible; }

  /// See hal::sim::I2cTarget.
  hal::Err on_transfer(const uint8_t* tx, size_t tx_len, uint8_t* rx, size_t rx_len) override;

  // --- physical values (recompute the raw ADC values) ---
  void set_temperature_c(double celsius);
  void set_humidity_pct(double percent);
  void set_pressure_pa(double pascal);
  double temperature_c() const { return temperature_c_; }
  double humidity_pct() const { return humidity_pct_; }
  double pressure_pa() const { return pressure_pa_; }

  /// Raw ADC values as a conversion produces them (20, 20, 16 bit). Overrides
  /// the physical values until the next physical setter.
  void set_raw(int32_t adc_T, int32_t adc_P, int32_t adc_H);
  int32_t adc_T() const { return adc_T_; }
  int32_t adc_P() const { return adc_P_; }
  int32_t adc_H() const { return adc_H_; }

  /// Reprograms the NVM image (and recomputes the raw values).
  void set_calibration(const Bme280Calibration& calibration);
  const Bme280Calibration& calibration() const { return calib_; }

  // --- fault injection ---
  /// The id register reads `id` (e.g. 0x58: a BMP280).
  void set_chip_id(uint8_t id);
  /// Every transaction that reads (a range covering) or writes `reg` fails
  /// with `err`, until clear_faults(). Errors: NoSpace (kMaxFaults in use).
  hal::Err fail_register(uint8_t reg, hal::Err err, Access access = Access::ReadWrite);
  void clear_faults();
  /// The NVM reads as erased (all 0x00).
  void corrupt_calibration();
  void set_data_fault(DataFault fault) { data_fault_ = fault; }
  /// Status reads that show "measuring" after a forced conversion starts (default 1).
  void set_measuring_polls(uint32_t polls) { measuring_polls_ = polls; }
  /// Status reads that show "im_update" after a soft reset (default 1).
  void set_im_update_polls(uint32_t polls) { im_update_polls_ = polls; }

  // --- observation ---
  /// Current content of register `reg` (no side effects).
  uint8_t reg(uint8_t reg) const { return regs_[reg]; }
  uint8_t mode() const { return regs_[0xF4] & 0x03; }
  uint32_t reset_count() const { return resets_; }
  uint32_t conversion_count() const { return conversions_; }
  uint32_t transfer_count() const { return transfers_; }

 private:
  struct Fault {
    uint8_t reg = 0;
    hal::Err err = hal::Err::Ok;
    Access access = Access::ReadWrite;
  };

  void power_on_reset();
  void load_nvm();
  void recompute_raw();
  void convert();
  void write_register(uint8_t reg, uint8_t value);
  uint8_t read_register(uint8_t reg);
  hal::Err fault_for(uint8_t first, size_t count, Access access) const;

  uint8_t regs_[256] = {};
  Bme280Calibration calib_;
  bool calib_erased_ = false;
  uint8_t chip_id_;
  uint8_t pointer_ = 0;
  uint8_t ctrl_hum_latched_ = 0;

  double temperature_c_ = 25.0;
  double humidity_pct_ = 50.0;
  double pressure_pa_ = 101325.0;
  int32_t adc_T_ = 0;
  int32_t adc_P_ = 0;
  int32_t adc_H_ = 0;

  Fault faults_[kMaxFaults];
  size_t fault_count_ = 0;
  DataFault data_fault_ = DataFault::None;
  uint32_t measuring_polls_ = 1;
  uint32_t im_update_polls_ = 1;
  uint32_t measuring_left_ = 0;
  uint32_t im_update_left_ = 0;
  uint32_t resets_ = 0;
  uint32_t conversions_ = 0;
  uint32_t transfers_ = 0;
};

/// `model` as a Bme280Model when it is one (its compatible() is
/// "bosch,bme280"), else nullptr. For tests and the fleet simulator, which get
/// models through boards::Board::sim_model().
inline Bme280Model* as_bme280(Model* model) {
  const bool is_bme280 = model != nullptr && std::strcmp(model->compatible(), Bme280Model::kCompatible) == 0;
  return is_bme280 ? static_cast<Bme280Model*>(model) : nullptr;
}

// ---- the model table's row (drv/model_table.hpp; bme280_sim.cpp) -------------

/// SimParser of "bosch,bme280". Keys of the board file's "sim" object, each
/// optional: "present" (true/false: false = the chip does not answer on the
/// bus), "temperature_c" (-40..85), "humidity_pct" (0..100), "pressure_pa"
/// (30000..110000) — the part's operating range, datasheet table 1-3 — and
/// "chip_id" (0..255: what the id register reads).
bool parse_bme280_sim(const json::Value& sim, SimParams* out);
/// ModelFactory of "bosch,bme280": a Bme280Model with the parameters applied,
/// attached at site.i2c/address unless "present" is false. No model when the
/// device has no I2C bus (site.i2c null). Errors: NoSpace (out of memory).
hal::Err create_bme280_model(const SimParams& params, const ModelSite& site, std::unique_ptr<Model>* out);

}  // namespace sim
}  // namespace drv
