// Internal: cJSON helpers shared by the output formatters (senml.cpp,
// report.cpp). Only the fleet client's .cpp files include this.
#pragma once

#include <cjson/cJSON.h>

#include <memory>
#include <string>

#include "fleet/senml.hpp"

namespace fleet::detail {

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

inline JsonPtr json_object() { return JsonPtr(cJSON_CreateObject(), &cJSON_Delete); }

/// The document as one line (unformatted), without a newline.
std::string json_text(const cJSON* doc);

/// Adds a string, or null when `value` is empty and `empty_is_null`.
void add_string(cJSON* obj, const char* key, const std::string& value, bool empty_is_null = false);

/// The reading as {["device","item",]"time","name","value","unit"}: numbers
/// keep their exact decimal text, booleans are JSON booleans, unit null when
/// none. Caller owns the result.
cJSON* reading_json(const Reading& r, bool with_source);

}  // namespace fleet::detail
