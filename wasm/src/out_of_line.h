// out_of_line.h -- run a failed check's message building in a function of its own (private).
//
// Usage:
//   if (len < 64) return mc::detail::out_of_line([&] { return fail("truncated: " + u_(len)); });
//
// The lambda's body lands in its own instantiation of out_of_line(), never inlined (and the web
// build keeps such functions out of their single caller: web/CMakeLists.txt). A wasm engine
// compiles a function whole at its first call, and optimizes it when it runs long, so the
// string code of the blob reader's and the planner's error paths would otherwise be compiled
// at every page load: it had made Engine's load() 85 KB of wasm, 7-17 ms of baseline
// compilation and 175-284 ms of background optimization per page load in Chromium 156
// (bench/tools/wasm_startup.mjs, BENCHMARKS.md).
#pragma once

namespace mc {
namespace detail {

template <typename F>
__attribute__((noinline, cold)) auto out_of_line(F f) -> decltype(f()) {
  return f();
}

}  // namespace detail
}  // namespace mc
