// The explicit compatible -> model table. Built into xiot_driver_models (not
// xiot_drivers_core) because it names every chip that has a model.
#include "drv/model_table.hpp"

#include <cstring>

#include "bh1750/bh1750_model.hpp"
#include "ads1115/ads1115_model.hpp"
#include "bme280/bme280_model.hpp"
#include "gpio_input/gpio_input_model.hpp"
#include "sht3x/sht3x_model.hpp"

namespace drv {
namespace sim {

const ModelEntry kModels[] = {
    {"bosch,bme280", &parse_bme280_sim, &create_bme280_model,
     "BME280 register map at its I2C address; temperature, humidity, pressure, chip id"},
    {"sensirion,sht3x", &parse_sht3x_sim, &create_sht3x_model,
     "SHT3x command set at its I2C address (CRC-8, busy NACKs); temperature, humidity"},
    {"rohm,bh1750", &parse_bh1750_sim, &create_bh1750_model,
     "BH1750 instruction set, power state and data register at its I2C address; illuminance"},
    {"ti,ads1115", &parse_ads1115_sim, &create_ads1115_model,
     "ADS1115 register map at its I2C address; single-shot conversions of four input voltages"},
    {"xiot,gpio-input", &parse_gpio_input_sim, &create_gpio_input_model, "the level driven onto the input pin"},
};
const size_t kModelCount = sizeof kModels / sizeof kModels[0];

const ModelEntry* find_model(const char* compatible) {
  if (compatible == nullptr) return nullptr;
  for (size_t i = 0; i < kModelCount; ++i) {
    if (std::strcmp(kModels[i].compatible, compatible) == 0) return &kModels[i];
  }
  return nullptr;
}

}  // namespace sim
}  // namespace drv
