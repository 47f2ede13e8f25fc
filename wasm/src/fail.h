// fail.h -- how the core reports a failed check: the message goes to a std::string* (which may
// be null) and the function returns false, or its own failure value after the call.
//
// Usage:
//   if (len < 64) return mc::fail(err, [&] { return "truncated: " + std::to_string(len); });
//   if (!pixels) return mc::fail(err, "null pixels");              // a fixed message
//   if (!parse(data, &perr)) return mc::fail(err, perr);           // a message made elsewhere
//   if (n < 1) { mc::fail(err, [&] { return "bad n " + std::to_string(n); }); return -1; }
//
// A message that needs building is built by the lambda, inside fail(): each lambda gets its own
// instantiation of fail(), which is never inlined (noinline) and is laid out with the cold code,
// so the string code of an error path stays out of the function that checks. That matters for
// the wasm module: Binaryen inlines a function into its single caller, and a wasm engine
// compiles a function whole on its first call, so error paths inlined into load() would be
// compiled at every page load although they never run (web/CMakeLists.txt).
#pragma once
#include <string>

namespace mc {

template <typename MakeMessage>
__attribute__((noinline, cold)) bool fail(std::string* err, MakeMessage make_message) {
  if (err) *err = make_message();
  return false;
}

__attribute__((noinline, cold)) inline bool fail(std::string* err, const char* message) {
  if (err) *err = message;
  return false;
}

__attribute__((noinline, cold)) inline bool fail(std::string* err, const std::string& message) {
  if (err) *err = message;
  return false;
}

}  // namespace mc
