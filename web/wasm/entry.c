/* Entry translation unit of the browser modules: the C API itself comes from the core library
 * (wasm/src/c_api.cpp). This only exposes the layout of mc_result so that the JavaScript binding
 * can check at start-up that it reads the struct the way the compiler laid it out. */
#include <stddef.h>
#include "malaria.h"

int32_t mc_web_result_layout(int32_t field) {
  switch (field) {
    case 0: return (int32_t)sizeof(mc_result);
    case 1: return (int32_t)offsetof(mc_result, logits);
    case 2: return (int32_t)offsetof(mc_result, p_parasitized);
    case 3: return (int32_t)offsetof(mc_result, label);
    case 4: return (int32_t)offsetof(mc_result, band);
    default: return -1;
  }
}

/* The same for the field records (mc_field_cell, mc_field_summary). */
int32_t mc_web_field_layout(int32_t field) {
  switch (field) {
    case 0: return (int32_t)sizeof(mc_field_cell);
    case 1: return (int32_t)offsetof(mc_field_cell, status);
    case 2: return (int32_t)offsetof(mc_field_cell, p_parasitized);
    case 3: return (int32_t)offsetof(mc_field_cell, outline);
    case 4: return (int32_t)sizeof(mc_field_summary);
    case 5: return (int32_t)offsetof(mc_field_summary, parasitemia);
    case 6: return (int32_t)offsetof(mc_field_summary, cell_diameter);
    default: return -1;
  }
}
