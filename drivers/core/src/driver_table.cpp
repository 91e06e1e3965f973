// The explicit compatible -> factory table. Built into xiot_drivers (not
// xiot_drivers_core) because it names every driver.
#include "drv/driver_table.hpp"

#include <cstring>

#include "bh1750/bh1750.hpp"
#include "ads1115/ads1115.hpp"
#include "bme280/bme280.hpp"
#include "ds18b20/ds18b20.hpp"
#include "gpio_input/gpio_input.hpp"
#include "gpio_output/gpio_output.hpp"
#include "linux_hwmon/linux_hwmon.hpp"
#include "linux_iio/linux_iio.hpp"
#include "linux_thermal/linux_thermal.hpp"
#include "sht3x/sht3x.hpp"
#include "sys_metrics/sys_metrics.hpp"

namespace drv {

const DriverEntry kDrivers[] = {
    {"bosch,bme280", &create_bme280, "Bosch BME280 temperature/humidity/pressure sensor (I2C)"},
    {"sensirion,sht3x", &create_sht3x, "Sensirion SHT3x (SHT30/31/35) temperature/humidity sensor (I2C)"},
    {"rohm,bh1750", &create_bh1750, "ROHM BH1750FVI ambient light sensor (I2C)"},
    {"ti,ads1115", &create_ads1115, "TI ADS1115 16-bit ADC, four single-ended inputs in V (I2C)"},
    {"xiot,gpio-output", &create_gpio_output, "GPIO output: relay, LED (boolean actuator)"},
    {"xiot,gpio-input", &create_gpio_input, "GPIO input: contact, button (boolean sensor)"},
    {"xiot,system-metrics", &create_sys_metrics, "host uptime, load and memory"},
    {"maxim,ds18b20", &create_ds18b20, "Maxim DS18B20 1-wire thermometer (kernel w1_therm)"},
    {"linux,iio", &create_linux_iio, "a kernel IIO device's channels (sysfs), by name or number"},
    {"linux,hwmon", &create_linux_hwmon, "a kernel hwmon device's sensors (sysfs), by name or number"},
    {"linux,thermal-zone", &create_linux_thermal_zone, "a kernel thermal zone's temperature (sysfs)"},
};
const size_t kDriverCount = sizeof kDrivers / sizeof kDrivers[0];

const DriverEntry* find_driver(const char* compatible) {
  if (compatible == nullptr) return nullptr;
  for (size_t i = 0; i < kDriverCount; ++i) {
    if (std::strcmp(kDrivers[i].compatible, compatible) == 0) return &kDrivers[i];
  }
  return nullptr;
}

}  // namespace drv
