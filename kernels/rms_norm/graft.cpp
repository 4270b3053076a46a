// kbench graft of rms_norm into ggml (see src/e2e/graft.ts): inserted into ggml/src/ggml-cpu/ops.cpp right after
// the original ggml_compute_forward_rms_norm_f32, renamed ggml_compute_forward_rms_norm_f32_upstream. The candidate
// (compiled as C, entry point kbench_graft_rms_norm) takes RMS_NORM alone over contiguous f32 rows, with ggml's
// ith/nth as its own; everything else (the RMS_NORM+MUL fusion, strided or in-place tensors) stays upstream's.
// ggml's CPU backend fuses RMS_NORM with the MUL by the norm weight that always follows it in llama models, so
// kernel.json's graft.env turns that fusion off (GGML_CPU_DISABLE_FUSION=1) in both builds. ggml's graph allocator
// may compute a norm in place (llama's output norm), which the spec never does: then each row this thread owns is
// first copied into a thread-local row and the candidate reads the copy (upstream copies every row too).
// kbench_graft_calls: how many ops took the candidate (kb_logits reports it, so a graft never reached is a verdict).
#include <vector>

extern "C" void kbench_graft_rms_norm(const float * x, float * y, int n, int rows, float eps, int ith, int nth);
extern "C" long kbench_graft_calls(void);
static long kbench_graft_covered_ops = 0; // written by thread 0 only
extern "C" long kbench_graft_calls(void) { return kbench_graft_covered_ops; }

template <ggml_rms_norm_fuse_op FUSE_OP>
static void ggml_compute_forward_rms_norm_f32(
        const ggml_compute_params * params,
        ggml_tensor * dst_rms_norm,
        ggml_tensor * dst_fused = nullptr) {
    if constexpr (FUSE_OP == GGML_RMS_NORM_FUSE_OP_NONE) {
        const ggml_tensor * src = dst_rms_norm->src[0];
        ggml_tensor * dst = dst_rms_norm;
        const bool covered = src->type == GGML_TYPE_F32 && dst->type == GGML_TYPE_F32 && ggml_are_same_shape(src, dst) &&
            ggml_is_contiguous(src) && ggml_is_contiguous(dst) &&
            src->ne[0] <= 0x7fffffff && ggml_nrows(src) <= 0x7fffffff;
        if (covered) {
            float eps;
            memcpy(&eps, dst->op_params, sizeof(float));
            if (params->ith == 0) kbench_graft_covered_ops++;
            const int n = (int) src->ne[0];
            const int rows = (int) ggml_nrows(src);
            if (src->data != dst->data) {
                kbench_graft_rms_norm((const float *) src->data, (float *) dst->data, n, rows, eps, params->ith, params->nth);
                return;
            }
            static thread_local std::vector<float> row;
            row.resize((size_t) n);
            for (int r = params->ith; r < rows; r += params->nth) {
                float * y = (float *) dst->data + (int64_t) r * n;
                memcpy(row.data(), y, (size_t) n * sizeof(float));
                kbench_graft_rms_norm(row.data(), y, n, 1, eps, 0, 1);
            }
            return;
        }
    }
    ggml_compute_forward_rms_norm_f32_upstream<FUSE_OP>(params, dst_rms_norm, dst_fused);
}
