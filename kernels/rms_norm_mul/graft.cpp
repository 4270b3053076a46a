// kbench graft of rms_norm_mul into ggml (see src/e2e/graft.ts): inserted into ggml/src/ggml-cpu/ops.cpp right after
// the original ggml_compute_forward_rms_norm_mul_fused, renamed ggml_compute_forward_rms_norm_mul_fused_upstream.
// ggml-cpu.c (ggml_cpu_try_fuse_ops) calls that function, on every thread with its ith/nth, for each RMS_NORM whose
// only consumer is the next node, a MUL by an f32 row of the same length: every norm layer of a llama model, with
// fusion on as it is by default. So this recipe needs no environment and the reference build is stock llama.cpp.
//
// The candidate (compiled as C, entry point kbench_graft_rms_norm_mul) takes what the spec covers: contiguous f32
// rows x, the MUL's other operand w a single contiguous f32 row of the same length (broadcast over every row), y
// contiguous and distinct from x, eps inside kernel.json's range; ggml's ith/nth are the candidate's. The rest
// stays upstream's: other types, strides, a w broadcast per row or per plane, and an output computed in place over
// its input (ggml's allocator does that for llama's output norm, whose input has no other consumer; upstream works
// in place without copying, so a copy here would charge the candidate a pass upstream does not make).
//
// The scratch buffer t (rows·n floats, the unfused graph's intermediate): ggml plans no workspace for RMS_NORM or
// MUL, params->wdata belongs to whichever op planned the most (too small for rows·n floats in general), and the
// RMS_NORM node's own tensor is usually the MUL's output (ggml's allocator computes the MUL in place over it), so it
// is not distinct memory either. Each thread therefore owns a buffer of its own: thread_local, allocated on first use
// and again only when a larger op needs more (kept at the largest size; never a per-call allocation), uninitialised
// (no pass over it; a large one comes fresh from mmap, so only the rows the thread writes are faulted in), and freed
// when ggml's thread exits. Private per thread
// is also the safe reading of the spec: a candidate may use t however it likes for its own rows.
// kbench_graft_calls: how many ops took the candidate (kb_logits reports it, so a graft never reached is a verdict).
#include <memory>

extern "C" void kbench_graft_rms_norm_mul(const float * x, const float * w, float * y, float * t, int n, int rows, float eps, int ith, int nth);
extern "C" long kbench_graft_calls(void);
static long kbench_graft_covered_ops = 0; // written by thread 0 only
extern "C" long kbench_graft_calls(void) { return kbench_graft_covered_ops; }

// kernel.json's eps range (params[eps].range): the op-level check covers nothing outside it
static const float kbench_graft_eps_min = 1e-9f;
static const float kbench_graft_eps_max = 1e-3f;

struct kbench_graft_scratch {
    std::unique_ptr<float[]> data;
    size_t floats = 0;
};

// this thread's scratch of at least `floats` floats, uninitialised
static float * kbench_graft_scratch_for(size_t floats) {
    static thread_local kbench_graft_scratch scratch;
    if (scratch.floats < floats) {
        scratch.data.reset(new float[floats]);
        scratch.floats = floats;
    }
    return scratch.data.get();
}

void ggml_compute_forward_rms_norm_mul_fused(
        const ggml_compute_params * params,
        ggml_tensor * dst_rms_norm,
        ggml_tensor * dst_mul) {
    const ggml_tensor * src = dst_rms_norm->src[0];
    const ggml_tensor * w = dst_mul->src[0] == dst_rms_norm ? dst_mul->src[1] : dst_mul->src[0];
    float eps;
    memcpy(&eps, dst_rms_norm->op_params, sizeof(float));
    const bool covered = src->type == GGML_TYPE_F32 && w->type == GGML_TYPE_F32 && dst_mul->type == GGML_TYPE_F32 &&
        ggml_are_same_shape(src, dst_mul) && ggml_is_contiguous(src) && ggml_is_contiguous(dst_mul) &&
        w->ne[0] == src->ne[0] && ggml_nrows(w) == 1 && ggml_is_contiguous(w) &&
        src->data != dst_mul->data && w->data != dst_mul->data &&
        eps >= kbench_graft_eps_min && eps <= kbench_graft_eps_max &&
        src->ne[0] <= 0x7fffffff && ggml_nrows(src) <= 0x7fffffff;
    if (!covered) {
        ggml_compute_forward_rms_norm_mul_fused_upstream(params, dst_rms_norm, dst_mul);
        return;
    }
    if (params->ith == 0) kbench_graft_covered_ops++;
    const int n = (int) src->ne[0];
    const int rows = (int) ggml_nrows(src);
    float * t = kbench_graft_scratch_for((size_t) n * (size_t) rows);
    kbench_graft_rms_norm_mul((const float *) src->data, (const float *) w->data, (float *) dst_mul->data, t, n, rows, eps, params->ith, params->nth);
}
