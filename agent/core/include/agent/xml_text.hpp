// XML escaping for attribute values and character data, into caller buffers.
//
// The output is always well-formed XML 1.0 text, whatever the input bytes are:
//   & < > ' "      -> &amp; &lt; &gt; &apos; &quot;
//   TAB LF CR      -> &#9; &#10; &#13; (so attribute-value normalisation keeps them)
//   other C0 controls and invalid UTF-8 bytes -> '?'
// Valid UTF-8 sequences pass through unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "hal/status.hpp"

namespace agent {

/// Worst-case growth of one input byte (for sizing buffers): "&quot;" is 6 bytes.
constexpr size_t kXmlEscapeMaxGrowth = 6;

/// Length of the first `max_in` bytes of `text` (stopping at NUL) once escaped.
size_t xml_escaped_len(const char* text, size_t max_in = SIZE_MAX);

/// Writes the escaped form of `text` (up to NUL or `max_in` bytes) into `buf`
/// and NUL-terminates it. Returns the length without the NUL.
/// Errors: Overflow (cap too small; buf then holds a truncated, still
/// NUL-terminated prefix).
hal::Result<size_t> xml_escape(char* buf, size_t cap, const char* text, size_t max_in = SIZE_MAX);

/// Appends the escaped form of `text` (up to NUL or `max_in` bytes) to `out`,
/// for code that builds XML in a std::string (the session's publish IQs, the
/// fleet client). Allocates only when `out` must grow. No errors.
void xml_escape_append(std::string& out, const char* text, size_t max_in = SIZE_MAX);

}  // namespace agent
