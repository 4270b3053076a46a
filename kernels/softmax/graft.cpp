// kbench graft of softmax into ggml (see src/e2e/graft.ts): inserted into ggml/src/ggml-cpu/ops.cpp right after
// the original ggml_compute_forward_soft_max_f32, renamed ggml_compute_forward_soft_max_f32_upstream. The candidate
// (compiled as C, entry point kbench_graft_softmax) takes what the spec covers: contiguous f32 rows per head, an
// optional f32 mask with one row per x row shared by the heads (llama.cpp's KQ mask without flash attention), no
// ALiBi (max_bias 0: slope 1) and no attention sinks; ggml's ith/nth are the candidate's. The rest stays upstream's.
// Soft_max runs in llama models only without flash attention (llama-bench -fa 0). ggml's graph allocator usually
// computes it in place (y over x), which the spec never does: then each row this thread owns is first copied into
// the op's per-thread scratch row (params->wdata, as upstream does with every row) and the candidate reads the copy.
// kbench_graft_calls: how many ops took the candidate (kb_logits reports it, so a graft never reached is a verdict).
extern "C" void kbench_graft_softmax(const float * x, const float * mask, float * y, int n, int rows, int mask_rows,
                                     float scale, float slope, int ith, int nth);
extern "C" long kbench_graft_calls(void);
static long kbench_graft_covered_ops = 0; // written by thread 0 only
extern "C" long kbench_graft_calls(void) { return kbench_graft_covered_ops; }

static void ggml_compute_forward_soft_max_f32(
        const ggml_compute_params * params,
              ggml_tensor * dst) {
    const ggml_tensor * src = dst->src[0];
    const ggml_tensor * mask = dst->src[1];
    float scale;
    float max_bias;
    memcpy(&scale, (float *) dst->op_params + 0, sizeof(float));
    memcpy(&max_bias, (float *) dst->op_params + 1, sizeof(float));
    const bool mask_covered = mask == nullptr ||
        (mask->type == GGML_TYPE_F32 && mask->ne[0] == src->ne[0] && mask->nb[0] == sizeof(float) &&
         mask->nb[1] == mask->ne[0] * sizeof(float) && mask->ne[1] >= src->ne[1]);
    const bool covered = dst->src[2] == nullptr && max_bias == 0.0f && mask_covered && src->type == GGML_TYPE_F32 &&
        dst->type == GGML_TYPE_F32 && ggml_are_same_shape(src, dst) && ggml_is_contiguous(src) && ggml_is_contiguous(dst) &&
        src->ne[0] <= 0x7fffffff && src->ne[1] <= 0x7fffffff;
    if (!covered) {
        ggml_compute_forward_soft_max_f32_upstream(params, dst);
        return;
    }
    if (params->ith == 0) kbench_graft_covered_ops++;
    const int n = (int) src->ne[0];
    const int rows = (int) src->ne[1];
    const bool in_place = src->data == dst->data;
    float * scratch = (float *) params->wdata + (src->ne[0] + CACHE_LINE_SIZE_F32) * params->ith;
    for (int64_t i3 = 0; i3 < src->ne[3]; i3++) {
        for (int64_t i2 = 0; i2 < src->ne[2]; i2++) {
            const float * x = (const float *) ((const char *) src->data + i2 * src->nb[2] + i3 * src->nb[3]);
            float * y = (float *) ((char *) dst->data + i2 * dst->nb[2] + i3 * dst->nb[3]);
            // the mask broadcasts over heads (dim 2) and streams (dim 3) by index modulo its own extent
            const float * m = mask ? (const float *) ((const char *) mask->data + (i2 % mask->ne[2]) * mask->nb[2] +
                                                      (i3 % mask->ne[3]) * mask->nb[3]) : nullptr;
            if (!in_place) {
                kbench_graft_softmax(x, m, y, n, rows, m ? rows : 0, scale, 1.0f, params->ith, params->nth);
                continue;
            }
            for (int r = params->ith; r < rows; r += params->nth) {
                memcpy(scratch, x + (int64_t) r * n, (size_t) n * sizeof(float));
                kbench_graft_softmax(scratch, m ? m + (int64_t) r * n : nullptr, y + (int64_t) r * n, n, 1, m ? 1 : 0, scale, 1.0f, 0, 1);
            }
        }
    }
}
