// kbench's logits tool for the end-to-end check (src/e2e/logits.ts): built against a llama.cpp build (the
// unmodified reference or one with a candidate grafted into ggml), it runs a seeded sequence of token ids through a
// GGUF model (no tokenizer needed), then decodes greedily, and writes every logits row so two builds can be compared.
//
//   kb_logits MODEL OUT.bin --prompt P --steps S --threads T --seed X --fa auto|on|off
//
// OUT.bin: float32 rows of n_vocab, in order: the P prompt positions (one batch, so ggml's ops see many rows and
// split them across threads), then S single-token decode steps, each fed the argmax of the row before it.
// stdout: one JSON line {"n_vocab":…,"rows":…,"prompt":P,"steps":S,"tokens":[the S fed tokens],"graft_calls":N}, N the
// ops that took a grafted candidate (kbench_graft_calls, defined by a graft build's ops.cpp), -1 in the reference.
// Exit 2 for bad arguments, 1 when the model does not load or a decode fails (the reason on stderr).
#include "llama.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// weak: the reference build has no graft, and a weak reference does not pull anything from the static libraries
extern "C" long kbench_graft_calls(void) __attribute__((weak));

static void quiet_log(enum ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static int usage(const char * why) {
    fprintf(stderr, "kb_logits: %s\nusage: kb_logits MODEL OUT.bin --prompt P --steps S --threads T --seed X --fa auto|on|off\n", why);
    return 2;
}

static int argmax(const float * row, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) if (row[i] > row[best]) best = i;
    return best;
}

int main(int argc, char ** argv) {
    if (argc < 3) return usage("MODEL and OUT.bin are required");
    const char * model_path = argv[1];
    const char * out_path = argv[2];
    long prompt = 32, steps = 16, threads = 1;
    llama_flash_attn_type fa = LLAMA_FLASH_ATTN_TYPE_AUTO; // llama-bench's default
    unsigned long long seed = 1;
    for (int i = 3; i < argc; i++) {
        if (i + 1 >= argc) return usage("an option lacks its value");
        const std::string opt = argv[i];
        if (opt == "--fa") {
            const std::string v = argv[++i];
            if (v == "auto") fa = LLAMA_FLASH_ATTN_TYPE_AUTO;
            else if (v == "on") fa = LLAMA_FLASH_ATTN_TYPE_ENABLED;
            else if (v == "off") fa = LLAMA_FLASH_ATTN_TYPE_DISABLED;
            else return usage("--fa takes auto, on or off");
            continue;
        }
        char * end = nullptr;
        const unsigned long long v = strtoull(argv[++i], &end, 10);
        if (*end != '\0') return usage("option values are non-negative integers");
        if (opt == "--prompt") prompt = (long) v;
        else if (opt == "--steps") steps = (long) v;
        else if (opt == "--threads") threads = (long) v;
        else if (opt == "--seed") seed = v;
        else return usage(("unknown option " + opt).c_str());
    }
    if (prompt < 1 || prompt > 4096 || steps < 0 || steps > 4096 || threads < 1 || threads > 512 ) return usage("option out of range");

    llama_log_set(quiet_log, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model * model = llama_model_load_from_file(model_path, mp);
    if (!model) { fprintf(stderr, "kb_logits: cannot load %s\n", model_path); return 1; }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) (prompt + steps + 1);
    cp.n_batch = cp.n_ubatch = (uint32_t) prompt;
    cp.n_threads = cp.n_threads_batch = (int32_t) threads;
    cp.flash_attn_type = fa;
    cp.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "kb_logits: cannot make a context for %s\n", model_path); return 1; }

    FILE * out = fopen(out_path, "wb");
    if (!out) { fprintf(stderr, "kb_logits: cannot write %s\n", out_path); return 1; }

    // splitmix64: the token ids depend on the seed only, so both builds see the same prompt
    auto next = [&seed]() {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    llama_batch batch = llama_batch_init((int32_t) prompt, 0, 1);
    for (long i = 0; i < prompt; i++) {
        batch.token[i] = (llama_token) (3 + next() % (uint64_t) (n_vocab - 3)); // skip <unk> <s> </s>
        batch.pos[i] = (llama_pos) i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = (int32_t) prompt;
    if (llama_decode(ctx, batch) != 0) { fprintf(stderr, "kb_logits: decoding the prompt failed\n"); return 1; }
    for (long i = 0; i < prompt; i++) fwrite(llama_get_logits_ith(ctx, (int32_t) i), sizeof(float), (size_t) n_vocab, out);
    llama_batch_free(batch);

    std::vector<llama_token> fed;
    llama_token token = argmax(llama_get_logits_ith(ctx, -1), n_vocab);
    for (long s = 0; s < steps; s++) {
        fed.push_back(token);
        if (llama_decode(ctx, llama_batch_get_one(&token, 1)) != 0) { fprintf(stderr, "kb_logits: decode step %ld failed\n", s); return 1; }
        const float * row = llama_get_logits_ith(ctx, -1);
        fwrite(row, sizeof(float), (size_t) n_vocab, out);
        token = argmax(row, n_vocab);
    }
    if (fclose(out) != 0) { fprintf(stderr, "kb_logits: writing %s failed\n", out_path); return 1; }

    printf("{\"n_vocab\":%d,\"rows\":%ld,\"prompt\":%ld,\"steps\":%ld,\"tokens\":[", n_vocab, prompt + steps, prompt, steps);
    for (size_t i = 0; i < fed.size(); i++) printf("%s%d", i ? "," : "", fed[i]);
    printf("],\"graft_calls\":%ld}\n", kbench_graft_calls ? kbench_graft_calls() : -1L);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
