// compat/pthreadpool.h -- used only when the system's XNNPACK headers are installed without
// pthreadpool's header (Debian libxnnpack-dev without libpthreadpool-dev): xnnpack.h needs just
// the opaque handle type. bench_xnnpack always passes a null thread pool (single thread).
#pragma once
typedef struct pthreadpool* pthreadpool_t;
