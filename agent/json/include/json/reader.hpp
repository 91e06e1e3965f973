// xiot_json: the one reader for xiot's JSON files — the agent config
// (agent/core), the board files (boards/), the simulation parameters of chip
// models (drivers/<chip>/*_model) and the fleet file (fleet/sim).
//
// Where it lives: agent/json, because the files it reads are the agent's
// (config, board files, the fleet file that describes agents). It is a leaf:
// it depends on cJSON only and includes nothing of agent/, so boards/ (below
// the agent: the agent links boards, never the reverse) and a chip's model
// (which reads its own "sim" object from the board file) link it without
// inverting any layer.
//
// What it gives: typed getters (text, boolean, integer, number with fractions,
// one-of-several-strings, object, array) with optional/required, ranges,
// unknown and duplicate key detection, and ONE error format:
//
//   <file>: <key>: <what is wrong>                e.g.
//   agent.json: telemetry.interval_s: expected a number from 0.05 to 86400, got 0
//   board.json: devices[2].address: expected an I2C address ..., got "0x80"
//   agent.json: xmpp.passwrd: unknown key (did you mean "password"?)
//   agent.json: xmpp.jid: missing; expected a bare JID like dev1@example.com
//   agent.json:7:3: malformed JSON near "\"board\""
//   agent.json: expected a JSON object at the top level, got an array
//
// <key> is a JSON path: object members joined by '.', array elements as
// "[i]" (0-based). <what> is "expected <what>, got <found>" for a wrong value,
// "missing; expected <what>" for an absent required key, "unknown key (...)"
// or "duplicate key". <found> shows the value as JSON (strings quoted, at most
// 64 bytes, control characters escaped; numbers in shortest round-trip form),
// or only its type for a secret ("a string", "a number").
//
// A JSON null counts as absent for an optional key; a required key may not be
// null ("expected ..., got null").
//
// Start-up code: it allocates (std::string, the cJSON tree), never throws and
// needs no RTTI, so the agent (-fno-exceptions -fno-rtti) links it.
// Only the first error is kept: every getter returns false once one is set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

struct cJSON;

namespace json {

/// Flags of a getter, or-ed together.
enum Flags : unsigned {
  kOptional = 0,      ///< absent or null: true, *out untouched (the default)
  kRequired = 1u,     ///< absent: "missing; expected ..."; null: "expected ..., got null"
  kSecret = 2u,       ///< the value never appears in a message, only its type
  kEmptyOk = 4u,      ///< text(): "" is accepted (by default an empty string is an error)
};

/// Options of Reader::load() / Reader::parse().
enum ParseOptions : unsigned {
  kStrictJson = 0,       ///< plain JSON (RFC 8259): board files, settings, the fleet file
  kAllowComments = 1u,   ///< also // line and /* block */ comments (the agent config)
};

/// "a" / "a" or "b" / "a", "b" or "c": the choices of an enum, JSON-quoted.
template <class E>
struct Choice {
  const char* name;
  E value;
};

class Reader;

/// One value in the document, with its JSON path. Cheap to copy; lives as
/// long as the Reader it came from. A Value for an absent key is valid
/// (absent() is true) so lookups chain: root["xmpp"]["jid"].
class Value {
 public:
  Value() = default;

  /// The JSON path ("" for the top level, "telemetry.interval_s", "devices[2]").
  const std::string& path() const { return path_; }
  /// True when the key was not there.
  bool missing() const { return node_ == nullptr; }
  /// True when the key was not there or is JSON null.
  bool absent() const;
  bool is_object() const;
  bool is_array() const;
  bool is_string() const;
  bool is_bool() const;
  bool is_number() const;
  /// The underlying cJSON node (nullptr when missing), for the rare check the
  /// getters do not cover. Lives as long as the Reader.
  const cJSON* raw() const { return node_; }
  /// The string when is_string(), else nullptr. Lives as long as the Reader.
  const char* c_str() const;
  /// True, with *out set, when this is an integral number of at most 2^53 in
  /// magnitude (exactly representable); no error is recorded either way.
  bool as_integer(int64_t* out) const;
  /// true for JSON true; false for anything else. No error is recorded.
  bool is_true() const;

  /// Member `key` of this object (a missing Value when this is not an object
  /// or has no such member). Path: "<path>.<key>".
  Value operator[](const char* key) const;

  /// How the value looks in a message: "\"text\"", "12.5", "true", "null",
  /// "an array", "an object", "nothing" (missing); with kSecret only its type.
  std::string describe(unsigned flags = 0) const;

  // ---- getters: each returns false after recording the error ----------------

  /// A string, non-empty unless kEmptyOk. `expected` names what is wanted in
  /// the message ("a file path (non-empty string)").
  bool text(std::string* out, const char* expected = "a non-empty string", unsigned flags = kOptional) const;
  /// true or false: "expected true or false, got ...".
  bool boolean(bool* out, unsigned flags = kOptional) const;
  /// An integral number in [lo, hi]: "expected an integer from lo to hi, got ...".
  /// Fractions, non-finite numbers and non-numbers are errors.
  bool integer(int64_t* out, int64_t lo, int64_t hi, unsigned flags = kOptional) const;
  /// As integer() into any integral type that holds [lo, hi].
  template <class T>
  bool integer(T* out, int64_t lo, int64_t hi, unsigned flags = kOptional) const {
    int64_t v = static_cast<int64_t>(*out);
    if (!integer(&v, lo, hi, flags)) return false;
    *out = static_cast<T>(v);
    return true;
  }
  /// A finite number in [lo, hi]: "expected a number from lo to hi, got ...".
  /// `lo_name`, when given, explains where lo comes from: "from 1
  /// (xmpp.reconnect_base_s) to 86400".
  bool number(double* out, double lo, double hi, unsigned flags = kOptional, const char* lo_name = nullptr) const;
  /// One of `n` strings: "expected \"a\", \"b\" or \"c\", got ...". Exact,
  /// case-sensitive.
  template <class E, size_t N>
  bool one_of(E* out, const Choice<E> (&choices)[N], unsigned flags = kOptional) const {
    const char* names[N];
    for (size_t i = 0; i < N; ++i) names[i] = choices[i].name;
    size_t index = N;  // stays N when the value is absent
    if (!one_of_index(names, N, &index, flags)) return false;
    if (index < N) *out = choices[index].value;
    return true;
  }
  /// As one_of() on bare names; *index set only when the value is present.
  bool one_of_index(const char* const* names, size_t n, size_t* index, unsigned flags = kOptional) const;

  /// An object whose keys are all in `allowed` (`n` names), no key twice.
  /// Absent (optional) is fine. Errors: "expected an object, got ...",
  /// "<path>.<key>: unknown key (did you mean \"x\"?)" (a close allowed name)
  /// or "(expected one of: a b c)", "(none allowed here)" when n == 0, and
  /// "<path>.<key>: duplicate key".
  bool object(const char* const* allowed, size_t n, unsigned flags = kOptional) const;
  template <size_t N>
  bool object(const char* const (&allowed)[N], unsigned flags = kOptional) const {
    return object(allowed, N, flags);
  }
  /// An object with any keys, none twice (the keys are checked elsewhere).
  bool object_any_keys(unsigned flags = kOptional) const;
  /// An array: "expected <expected>, got ..." ("an array of devices").
  bool array(const char* expected = "an array", unsigned flags = kOptional) const;

  /// Number of elements (array) or members (object); 0 otherwise.
  size_t size() const;
  /// Calls `f(Value element)` for each array element (path "<path>[i]") or
  /// object member (path "<path>.<key>", key() set) in order, stopping at the
  /// first false it returns. Returns false when `f` did.
  template <class F>
  bool each(F&& f) const {
    size_t i = 0;
    for (const cJSON* c = first_child(); c != nullptr; c = next_child(c), ++i) {
      if (!f(child(c, i))) return false;
    }
    return true;
  }
  /// The member name when this Value came from each() over an object, else "".
  const char* key() const;

  // ---- reporting ------------------------------------------------------------

  /// Records "<file>: <path>: <what>" (or "<file>: <what>" at the top level)
  /// and returns false.
  bool fail(const std::string& what) const;
  /// Records "expected <what>, got <describe()>[ (<note>)]" and returns false.
  bool expected(const std::string& what, const char* note = nullptr, unsigned flags = 0) const;

 private:
  friend class Reader;
  Value(const Reader* reader, const cJSON* node, std::string path)
      : reader_(reader), node_(node), path_(std::move(path)) {}
  const cJSON* first_child() const;
  static const cJSON* next_child(const cJSON* c);
  Value child(const cJSON* c, size_t index) const;
  bool check_present(const char* expected, unsigned flags, bool* present) const;

  const Reader* reader_ = nullptr;
  const cJSON* node_ = nullptr;
  std::string path_;
};

/// One JSON file being read: owns the parsed tree and the first error.
/// Not copyable; every Value from it lives as long as it does.
class Reader {
 public:
  /// `file` names the document in messages (as the user gave it).
  explicit Reader(std::string file);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// Reads the file named at construction (at most `max_bytes`) and parses
  /// it. Errors: "cannot read: <strerror>", "larger than <size>; expected
  /// <what_file>", then those of parse(). `what_file` is e.g. "a board file".
  bool load(size_t max_bytes, const char* what_file, unsigned options = kStrictJson);
  /// Parses `size` bytes of `text` (a UTF-8 BOM is skipped). Errors: "empty
  /// file; expected a JSON object", "contains a NUL byte; expected a JSON
  /// text", "<line>:<col>: malformed JSON near \"...\"" (or "at end of
  /// line", "at end of file"; 1-based, columns in bytes), and "expected a
  /// JSON object at the top level, got ...".
  /// With kAllowComments, comments (outside strings) are blanked to spaces
  /// before cJSON parses the text, as cJSON_Minify() would drop them but
  /// keeping every other byte where it was, so line:column in messages
  /// still point into the file as written; a file of only comments is
  /// "empty", and "<line>:<col>: unterminated /* comment" names where an
  /// unclosed one starts.
  bool parse(const char* text, size_t size, unsigned options = kStrictJson);

  /// The top-level object (path ""). A missing Value before parse() succeeds.
  Value root() const;
  const std::string& file() const { return file_; }
  /// The first error, one line, or "" when there was none.
  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

  /// Records "<file>: <what>" (nothing when an error is already recorded);
  /// returns false.
  bool fail_file(const std::string& what) const;
  /// Records "<file>: <key>: <what>" ("<file>: <what>" when key is empty);
  /// returns false.
  bool fail(const std::string& key, const std::string& what) const;

 private:
  std::string file_;
  cJSON* root_ = nullptr;
  mutable std::string error_;
};

// ---- formatting helpers, shared so that every message looks the same --------

/// Shortest text that reads back as `d` ("0.05", "1e+300", "inf", "nan").
std::string format_number(double d);
/// `s` as a JSON string literal: at most 64 bytes then "...", '"' and '\\'
/// escaped, control characters as \u00XX.
std::string quote(const char* s);
/// "\"a\"", "\"a\" or \"b\"", "\"a\", \"b\" or \"c\"".
std::string list_choices(const char* const* names, size_t n);

}  // namespace json
