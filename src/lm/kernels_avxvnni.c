/* Placeholder: the AVX-VNNI kernels are being written; until then the AVX2 ones serve. */
#include "lm/internal.h"
const struct lm_kernel_ops lm_kernels_avxvnni = {LM_KERNELS_AVXVNNI, lm_avx2_matvec_f32,
                                                 lm_avx2_matvec_q8, lm_avx2_quantize};
