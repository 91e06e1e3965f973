// xiot-chipimage COMPATIBLE SIM_JSON: a chip's register image for the
// kernel's i2c-stub, made by the project's own chip model (chipimage.hpp,
// README.md).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "chipimage.hpp"

namespace {

void usage(FILE* to) {
  std::fprintf(to,
               "usage: xiot-chipimage [--input N] [--pga MV] COMPATIBLE SIM_JSON\n"
               "  Prints the register image of COMPATIBLE after one measurement of the\n"
               "  physical values in SIM_JSON (a board file's \"sim\" object), one\n"
               "  \"0xRR 0xVV b\" or \"0xRR 0xVVVV w\" line per register, for\n"
               "  i2cset -y BUS ADDR REG VALUE MODE on an i2c-stub chip.\n"
               "  --input N   ti,ads1115: the input converted, 0..3 (default 0)\n"
               "  --pga MV    ti,ads1115: full-scale range in mV (default 2048)\n"
               "  compatibles:");
  for (const std::string& c : chipimage::supported()) std::fprintf(to, " %s", c.c_str());
  std::fprintf(to, "\n  exit 0: printed; 2: bad usage, unknown compatible or bad SIM_JSON\n");
}

/// A decimal integer option value; false on anything else.
bool parse_int(const char* text, int* out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < -1000000 || v > 1000000) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  chipimage::Options options;
  std::vector<const char*> args;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "-h") == 0 || std::strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (std::strcmp(a, "--input") == 0 || std::strcmp(a, "--pga") == 0) {
      int* target = a[2] == 'i' ? &options.input : &options.pga_mv;
      if (i + 1 >= argc || !parse_int(argv[i + 1], target) || *target < 0) {
        std::fprintf(stderr, "xiot-chipimage: %s: expected a non-negative integer\n", a);
        return chipimage::kExitBadInput;
      }
      ++i;
      continue;
    }
    if (a[0] == '-' && a[1] == '-') {
      std::fprintf(stderr, "xiot-chipimage: unknown option %s\n", a);
      usage(stderr);
      return chipimage::kExitBadInput;
    }
    args.push_back(a);
  }
  if (args.size() != 2) {
    usage(stderr);
    return chipimage::kExitBadInput;
  }
  std::vector<chipimage::Line> lines;
  std::string error;
  const int rc = chipimage::make_image(args[0], args[1], options, &lines, &error);
  if (rc != 0) {
    std::fprintf(stderr, "xiot-chipimage: %s: %s\n", args[0], error.c_str());
    return rc;
  }
  const std::string text = chipimage::format(lines);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
