/* Entry translation unit of the browser modules: the C API itself comes from the core library
 * (wasm/src/c_api.cpp). This only exposes the layout of the structs that the JavaScript binding
 * reads and writes (web/engine.js LAYOUT names the same entries in the same order), so that it
 * addresses every field where the compiler put it. */
#include <stddef.h>
#include "malaria.h"

#define MC_OFF_(T, f) (int32_t) offsetof(T, f)
static const int32_t layout_[] = {
    /* mc_result */
    (int32_t)sizeof(mc_result),
    MC_OFF_(mc_result, logits),
    MC_OFF_(mc_result, p_parasitized),
    MC_OFF_(mc_result, label),
    MC_OFF_(mc_result, band),
    /* mc_engine_params */
    (int32_t)sizeof(mc_engine_params),
    MC_OFF_(mc_engine_params, blob),
    MC_OFF_(mc_engine_params, blob_len),
    MC_OFF_(mc_engine_params, payload_sha256),
    MC_OFF_(mc_engine_params, adopt),
    MC_OFF_(mc_engine_params, staged),
    /* mc_field_cell */
    (int32_t)sizeof(mc_field_cell),
    MC_OFF_(mc_field_cell, x),
    MC_OFF_(mc_field_cell, y),
    MC_OFF_(mc_field_cell, w),
    MC_OFF_(mc_field_cell, h),
    MC_OFF_(mc_field_cell, status),
    MC_OFF_(mc_field_cell, label),
    MC_OFF_(mc_field_cell, band),
    MC_OFF_(mc_field_cell, p_parasitized),
    MC_OFF_(mc_field_cell, outline),
    /* mc_field_summary */
    (int32_t)sizeof(mc_field_summary),
    MC_OFF_(mc_field_summary, regions),
    MC_OFF_(mc_field_summary, counted),
    MC_OFF_(mc_field_summary, parasitized),
    MC_OFF_(mc_field_summary, uncertain),
    MC_OFF_(mc_field_summary, border),
    MC_OFF_(mc_field_summary, white),
    MC_OFF_(mc_field_summary, debris),
    MC_OFF_(mc_field_summary, clump),
    MC_OFF_(mc_field_summary, parasitemia),
    MC_OFF_(mc_field_summary, ci95_lo),
    MC_OFF_(mc_field_summary, ci95_hi),
    MC_OFF_(mc_field_summary, cell_diameter),
};

/* Entry i of the table above (a size or an offset, in bytes), -1 past its end. */
int32_t mc_web_layout(int32_t i) {
  return i >= 0 && i < (int32_t)(sizeof layout_ / sizeof layout_[0]) ? layout_[i] : -1;
}
