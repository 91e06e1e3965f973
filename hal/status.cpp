#include "hal/status.hpp"

namespace hal {

const char* err_name(Err e) {
  switch (e) {
    case Err::Ok: return "ok";
    case Err::Timeout: return "timeout";
    case Err::Nack: return "no acknowledge";
    case Err::Io: return "i/o error";
    case Err::NotSupported: return "not supported";
    case Err::InvalidArgument: return "invalid argument";
    case Err::NotFound: return "not found";
    case Err::BadChipId: return "wrong chip id";
    case Err::NoSpace: return "no space";
    case Err::Overflow: return "buffer too small";
    case Err::Corrupt: return "corrupt data";
    case Err::Busy: return "busy";
    case Err::NotReady: return "not ready";
    case Err::ReadOnly: return "read-only";
  }
  return "unknown error";
}

}  // namespace hal
