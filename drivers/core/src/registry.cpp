#include "drv/registry.hpp"

#include <cstring>

namespace drv {

hal::Err Registry::add(std::unique_ptr<Device> device) {
  if (!device) return hal::Err::InvalidArgument;
  if (count_ == kMaxDevices) return hal::Err::NoSpace;
  for (size_t i = 0; i < count_; ++i) {
    if (std::strcmp(devices_[i]->name(), device->name()) == 0) return hal::Err::InvalidArgument;
  }
  devices_[count_] = std::move(device);
  last_err_[count_] = hal::Err::Ok;
  ++count_;
  return hal::Err::Ok;
}

size_t Registry::channel_count() const {
  size_t n = 0;
  for (size_t i = 0; i < count_; ++i) n += devices_[i]->channel_count();
  return n;
}

hal::Result<ChannelRef> Registry::find(const char* full_name) const {
  if (full_name == nullptr) return hal::Err::NotFound;
  const char* dot = std::strchr(full_name, '.');
  if (dot == nullptr) return hal::Err::NotFound;
  const size_t dev_len = static_cast<size_t>(dot - full_name);
  for (size_t i = 0; i < count_; ++i) {
    Device& d = *devices_[i];
    if (std::strlen(d.name()) != dev_len || std::strncmp(d.name(), full_name, dev_len) != 0) continue;
    for (size_t c = 0; c < d.channel_count(); ++c) {
      if (std::strcmp(d.channel(c).quantity, dot + 1) == 0) {
        return ChannelRef{&d, static_cast<uint8_t>(c)};
      }
    }
    return hal::Err::NotFound;
  }
  return hal::Err::NotFound;
}

size_t Registry::sample_all() {
  size_t failed = 0;
  for (size_t i = 0; i < count_; ++i) {
    last_err_[i] = devices_[i]->sample();
    if (last_err_[i] != hal::Err::Ok) ++failed;
  }
  return failed;
}

hal::Err Registry::sample(size_t i) {
  last_err_[i] = devices_[i]->sample();
  return last_err_[i];
}

}  // namespace drv
