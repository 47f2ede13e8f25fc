// compat/pthreadpool.h -- used only when the system's XNNPACK headers are installed without
// pthreadpool's header (Debian libxnnpack-dev without libpthreadpool-dev): xnnpack.h needs just
// the opaque handle type. bench_kernels (bench/CMakeLists.txt) and xnnpack_layers (bench/run.sh)
// always pass a null thread pool (single thread), so nothing of pthreadpool is called.
#pragma once
typedef struct pthreadpool* pthreadpool_t;
