/* Minimal stand-in for <pthreadpool.h> (libpthreadpool-dev is not installed with libxnnpack-dev
 * on Debian 12): xnnpack.h only needs the opaque handle type. The benchmark passes nullptr
 * (single-threaded), so nothing of pthreadpool is called directly. */
#pragma once
typedef struct pthreadpool* pthreadpool_t;
