// xiot-chipimage: the model does the work, this file only drives one
// measurement and reads the registers back (chipimage.hpp).
#include "chipimage.hpp"

#include <cstdio>
#include <memory>

#include "ads1115/ads1115.hpp"
#include "ads1115/ads1115_model.hpp"
#include "bme280/bme280.hpp"
#include "bme280/bme280_model.hpp"
#include "drv/model_table.hpp"
#include "hal/sim/sim_i2c_bus.hpp"
#include "json/reader.hpp"

namespace chipimage {

namespace {

constexpr uint32_t kTimeoutMs = 25;
/// Status/config polls before a conversion that never ends is an error (the
/// models end one after a single busy poll by default).
constexpr int kMaxPolls = 100;

/// One chip the tool can image. `measure` completes a measurement on the
/// model at `address` through the bus (as a driver would), `dump` appends
/// the registers an i2c-stub needs.
struct Chip {
  const char* compatible;
  uint16_t address;  ///< the part's default address (the model does not care)
  bool (*measure)(hal::sim::SimI2cBus& bus, uint16_t address, const Options& options, std::string* error);
  void (*dump)(drv::sim::Model* model, std::vector<Line>* out);
};

bool write(hal::sim::SimI2cBus& bus, uint16_t address, std::initializer_list<uint8_t> tx, std::string* error) {
  const std::vector<uint8_t> bytes(tx);
  const hal::Err e = bus.transfer(address, bytes.data(), bytes.size(), nullptr, 0, kTimeoutMs);
  if (e != hal::Err::Ok) *error = std::string("model refused a register write: ") + hal::err_name(e);
  return e == hal::Err::Ok;
}

bool read(hal::sim::SimI2cBus& bus, uint16_t address, uint8_t reg, uint8_t* rx, size_t n, std::string* error) {
  const hal::Err e = bus.transfer(address, &reg, 1, rx, n, kTimeoutMs);
  if (e != hal::Err::Ok) *error = std::string("model refused a register read: ") + hal::err_name(e);
  return e == hal::Err::Ok;
}

// ---- bosch,bme280 -------------------------------------------------------------

bool measure_bme280(hal::sim::SimI2cBus& bus, uint16_t address, const Options& options, std::string* error) {
  namespace b = drv::bme280;
  if (options.input >= 0 || options.pga_mv >= 0) {
    *error = "--input and --pga apply to ti,ads1115 only";
    return false;
  }
  // One forced conversion at x1 oversampling (§3.3.3, §5.4.3, §5.4.5):
  // ctrl_hum first (it is latched by the ctrl_meas write), then ctrl_meas
  // osrs_t=1 osrs_p=1 mode=forced; the chip returns to sleep with the data
  // registers filled and status.measuring clear.
  if (!write(bus, address, {b::kRegCtrlHum, 0x01}, error)) return false;
  if (!write(bus, address, {b::kRegCtrlMeas, (1 << 5) | (1 << 2) | b::kModeForced}, error)) return false;
  for (int poll = 0; poll < kMaxPolls; ++poll) {
    uint8_t status = 0;
    if (!read(bus, address, b::kRegStatus, &status, 1, error)) return false;
    if ((status & (b::kStatusMeasuring | b::kStatusImUpdate)) == 0) return true;
  }
  *error = "the model's conversion did not finish";
  return false;
}

void dump_bme280(drv::sim::Model* model, std::vector<Line>* out) {
  namespace b = drv::bme280;
  const drv::sim::Bme280Model* m = drv::sim::as_bme280(model);
  auto bytes = [m, out](unsigned first, unsigned count) {
    for (unsigned r = first; r < first + count; ++r) {
      out->push_back(Line{static_cast<uint8_t>(r), m->reg(static_cast<uint8_t>(r)), false});
    }
  };
  // Ascending register order: calibration 0x88..0xA1 [4.2.2], id 0xD0
  // [5.4.1], reset 0xE0 (reads 0) [5.4.2], calibration 0xE1..0xE7, ctrl_hum,
  // status, ctrl_meas, config 0xF2..0xF5 [5.4.3-6], data 0xF7..0xFE [5.4.7-9].
  bytes(b::kRegCalib00, b::kCalibTpLen);
  bytes(b::kRegChipId, 1);
  bytes(b::kRegReset, 1);
  bytes(b::kRegCalib26, b::kCalibHLen);
  bytes(b::kRegCtrlHum, 4);
  bytes(b::kRegData, b::kDataLen);
}

// ---- ti,ads1115 ---------------------------------------------------------------

bool measure_ads1115(hal::sim::SimI2cBus& bus, uint16_t address, const Options& options, std::string* error) {
  namespace a = drv::ads1115;
  const int input = options.input < 0 ? 0 : options.input;
  if (input >= static_cast<int>(a::kInputCount)) {
    *error = "--input: expected 0 to 3, got " + std::to_string(options.input);
    return false;
  }
  const int pga_mv = options.pga_mv < 0 ? a::kFsrMv[2] : options.pga_mv;
  uint8_t pga = a::kPgaCount;
  for (size_t i = 0; i < a::kPgaCount; ++i) {
    if (a::kFsrMv[i] == pga_mv) pga = static_cast<uint8_t>(i);
  }
  if (pga == a::kPgaCount) {
    *error = "--pga: expected 6144, 4096, 2048, 1024, 512 or 256, got " + std::to_string(pga_mv);
    return false;
  }
  // One single-shot conversion as the driver starts it (§9.4.2): config with
  // OS=1, MUX=AINx/GND, the PGA, 128 SPS; poll OS until the result is in the
  // conversion register. The config register then reads OS=1 (idle), so a
  // driver's poll on the i2c-stub completes at once.
  const uint16_t config = a::single_shot_config(static_cast<size_t>(input), pga, 4);
  if (!write(bus, address, {a::kRegConfig, static_cast<uint8_t>(config >> 8), static_cast<uint8_t>(config & 0xFF)},
             error)) {
    return false;
  }
  for (int poll = 0; poll < kMaxPolls; ++poll) {
    uint8_t rx[2] = {};
    if (!read(bus, address, a::kRegConfig, rx, sizeof rx, error)) return false;
    if ((rx[0] & (a::kOs >> 8)) != 0) return true;
  }
  *error = "the model's conversion did not finish";
  return false;
}

void dump_ads1115(drv::sim::Model* model, std::vector<Line>* out) {
  const drv::sim::Ads1115Model* m = drv::sim::as_ads1115(model);
  // i2c-stub keeps a 16-bit word per register and answers SMBus READ WORD
  // DATA with it low byte first (SMBus words are little-endian on the wire);
  // the ADS1115 sends MSB first (§9.5.3). The stub therefore holds each
  // register byte-swapped, so that a word read delivers the chip's bytes.
  for (uint8_t r = 0; r <= drv::ads1115::kRegHiThresh; ++r) {
    const uint16_t v = m->reg(r);
    out->push_back(Line{r, static_cast<uint16_t>((v >> 8) | ((v & 0xFF) << 8)), true});
  }
}

const Chip kChips[] = {
    {drv::sim::Bme280Model::kCompatible, 0x76, &measure_bme280, &dump_bme280},
    {drv::sim::Ads1115Model::kCompatible, 0x48, &measure_ads1115, &dump_ads1115},
};

std::string supported_list() {
  std::string s;
  for (const Chip& c : kChips) s += std::string(s.empty() ? "" : ", ") + c.compatible;
  return s;
}

}  // namespace

std::vector<std::string> supported() {
  std::vector<std::string> out;
  for (const Chip& c : kChips) out.emplace_back(c.compatible);
  return out;
}

int make_image(const std::string& compatible, const std::string& sim_json, const Options& options,
               std::vector<Line>* out, std::string* error) {
  out->clear();
  const Chip* chip = nullptr;
  for (const Chip& c : kChips) {
    if (compatible == c.compatible) chip = &c;
  }
  const drv::sim::ModelEntry* entry = drv::sim::find_model(compatible.c_str());
  if (chip == nullptr || entry == nullptr) {
    *error = "unknown compatible \"" + compatible + "\"" +
             (entry != nullptr ? " (it has a model, but no register image an i2c-stub can hold)" : "") +
             "; expected one of: " + supported_list();
    return kExitBadInput;
  }

  // The same reading as a boards/sim "sim" object (boards/src/board_parse.cpp),
  // named "sim" in messages: "sim: temperature_c: expected ...".
  json::Reader reader("sim");
  drv::sim::SimParams params;
  if (!reader.parse(sim_json.data(), sim_json.size()) || !entry->parse_sim(reader.root(), &params)) {
    *error = reader.error();
    return kExitBadInput;
  }
  if (params.get("present").value_or(1) == 0) {
    *error = "sim: present: false leaves the chip off the bus; there is no register image to print";
    return kExitBadInput;
  }

  hal::sim::SimI2cBus bus;
  std::unique_ptr<drv::sim::Model> model;
  const drv::sim::ModelSite site{&bus, chip->address, nullptr, 0};
  if (const hal::Err e = entry->create(params, site, &model); e != hal::Err::Ok || model == nullptr) {
    *error = std::string("cannot create the model: ") + hal::err_name(e);
    return kExitBadInput;
  }
  if (!chip->measure(bus, chip->address, options, error)) return kExitBadInput;
  chip->dump(model.get(), out);
  return 0;
}

std::string format(const std::vector<Line>& lines) {
  std::string text;
  char buf[32];
  for (const Line& l : lines) {
    std::snprintf(buf, sizeof buf, l.word ? "0x%02x 0x%04x w\n" : "0x%02x 0x%02x b\n", l.reg, l.value);
    text += buf;
  }
  return text;
}

}  // namespace chipimage
