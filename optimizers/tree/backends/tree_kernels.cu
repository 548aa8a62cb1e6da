// CUDA kernels of the tree store (CuPy RawModule). One source, two compilers:
// NVRTC on a GPU, and g++ with tests/tree/cuda_shim.h on CPU, so the same text is
// checked against the NumPy reference where no GPU exists. Hence no shared memory,
// no __syncthreads and no warp intrinsics here: only grid-stride loops and atomics.
// Arrays are [B, M] row-major: element (b, n) is at b * M + n. Float arithmetic
// follows policies.py operation by operation (compiled with --fmad=false).

#define FLAG_EXPANDED 1
#define FLAG_PRUNED 4
#define CLOSED_MASK 7
#define POLICY_UCT 0
#define POLICY_PUCT 1
#define POLICY_ASTAR 2
#define KMAX 32

// sqrt(log(max(count, 1))): the shared table below its size (the same bits as on CPU),
// the formula above.
__device__ __forceinline__ double sqrt_log(const double* table, int table_size, int count) {
    int cp = count > 1 ? count : 1;
    return cp < table_size ? table[cp] : sqrt(log((double)cp));
}

// UCT: c * sqrt(log(n_p)); PUCT: sqrt(n_p).
__device__ __forceinline__ double parent_term(int policy, const double* table, int table_size,
                                              const int* visits, const int* inflight,
                                              const float* exploration, int b, long long row,
                                              int p) {
    int cp = visits[row + p] + inflight[row + p];
    if (policy == POLICY_UCT)
        return (double)exploration[b] * sqrt_log(table, table_size, cp);
    cp = cp > 1 ? cp : 1;
    return sqrt((double)cp);
}

__device__ __forceinline__ double child_score(int policy, const int* visits,
                                              const float* value_sum, const float* prior,
                                              const float* g, const float* h,
                                              const int* inflight, const float* exploration,
                                              const float* virtual_loss, int b, long long i,
                                              double term) {
    if (policy == POLICY_ASTAR) return -((double)g[i] + (double)h[i]);
    int inf_n = inflight[i];
    int cnt = visits[i] + inf_n;
    double cntf = (double)cnt;
    double w = (double)value_sum[i] - (double)virtual_loss[b] * (double)inf_n;
    if (policy == POLICY_UCT) {
        if (cnt == 0) return INFINITY;
        return (w + term * sqrt(cntf)) / cntf;
    }
    double q = cnt > 0 ? w / cntf : 0.0;
    return q + (double)exploration[b] * (double)prior[i] * term / (1.0 + cntf);
}

// (s, i) ranks before (s2, i2): higher score first, then lower node index.
__device__ __forceinline__ bool better(double s, int i, double s2, int i2) {
    return s > s2 || (s == s2 && i < i2);  // empty slots hold -inf and never tie
}

// Insert (s, i) into the sorted list vals/idx of length k if it ranks in.
__device__ __forceinline__ void topk_insert(double* vals, int* idx, int k, double s, int i) {
    if (s == -INFINITY || !better(s, i, vals[k - 1], idx[k - 1])) return;
    int pos = k - 1;
    while (pos > 0 && better(s, i, vals[pos - 1], idx[pos - 1])) {
        vals[pos] = vals[pos - 1];
        idx[pos] = idx[pos - 1];
        pos--;
    }
    vals[pos] = s;
    idx[pos] = i;
}

// Thread t = b * T + j scores nodes j, j + T, ... of tree b (coalesced) and writes its
// own top-k to row t of part_vals/part_idx [B * T, k].
extern "C" __global__ void score_partial(int policy, int k, int B, int M, int T,
                                         const double* table, int table_size,
                                         const int* visits, const float* value_sum,
                                         const float* prior, const float* g, const float* h,
                                         const int* inflight, const unsigned char* flags,
                                         const int* parent, const double* parent_sqrt_log,
                                         const int* num_nodes, const float* exploration,
                                         const float* virtual_loss, double* part_vals,
                                         int* part_idx) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)B * T) return;
    int b = (int)(t / T), j = (int)(t % T);
    long long row = (long long)b * M;
    double vals[KMAX];
    int idx[KMAX];
    for (int q = 0; q < k; q++) { vals[q] = -INFINITY; idx[q] = -1; }
    int end = num_nodes[b];
    for (int n = j; n < end; n += T) {
        long long i = row + n;
        if (flags[i] & CLOSED_MASK) continue;
        double term = 0.0;
        if (policy == POLICY_ASTAR) {
            if (inflight[i] != 0) continue;
        } else if (policy == POLICY_UCT) {
            term = (double)exploration[b] * parent_sqrt_log[i];  // cached: no gather
        } else {
            int p = parent[i];
            term = parent_term(policy, table, table_size, visits, inflight, exploration, b, row,
                               p < 0 ? n : p);
        }
        double s = child_score(policy, visits, value_sum, prior, g, h, inflight, exploration,
                               virtual_loss, b, i, term);
        topk_insert(vals, idx, k, s, n);
    }
    for (int q = 0; q < k; q++) { part_vals[t * k + q] = vals[q]; part_idx[t * k + q] = idx[q]; }
}

// Thread (b, c) merges lists c*F .. c*F+F-1 of tree b ([B, L, k] in) into list c of
// [B, ceil(L/F), k] out. Repeated until one list per tree remains.
extern "C" __global__ void topk_merge(int k, int B, int L, int F, const double* in_vals,
                                      const int* in_idx, double* out_vals, int* out_idx) {
    int L2 = (L + F - 1) / F;
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)B * L2) return;
    int b = (int)(t / L2), c = (int)(t % L2);
    double vals[KMAX];
    int idx[KMAX];
    for (int q = 0; q < k; q++) { vals[q] = -INFINITY; idx[q] = -1; }
    int hi = (c + 1) * F < L ? (c + 1) * F : L;
    for (int l = c * F; l < hi; l++) {
        long long base = ((long long)b * L + l) * k;
        for (int q = 0; q < k; q++) topk_insert(vals, idx, k, in_vals[base + q], in_idx[base + q]);
    }
    for (int q = 0; q < k; q++) { out_vals[t * k + q] = vals[q]; out_idx[t * k + q] = idx[q]; }
}

// One thread per tree; its paths run in order so each sees the previous virtual loss.
extern "C" __global__ void descend(int policy, int P, int B, int M, const double* table,
                                   int table_size, const int* visits,
                                   const float* value_sum, const float* prior, const float* g,
                                   const float* h, int* inflight, const unsigned char* flags,
                                   const int* first_child, const int* num_children,
                                   const float* exploration, const float* virtual_loss,
                                   int* leaves) {
    long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= B) return;
    long long row = b * M;
    for (int path = 0; path < P; path++) {
        int node = 0;
        atomicAdd(&inflight[row + node], 1);
        while ((flags[row + node] & FLAG_EXPANDED) && num_children[row + node] > 0) {
            double term = 0.0;
            if (policy != POLICY_ASTAR)
                term = parent_term(policy, table, table_size, visits, inflight, exploration,
                                   (int)b, row, node);
            double best = -INFINITY;
            int arg = -1, fc = first_child[row + node], nc = num_children[row + node];
            for (int c = fc; c < fc + nc; c++) {
                if (flags[row + c] & FLAG_PRUNED) continue;
                double s = child_score(policy, visits, value_sum, prior, g, h, inflight,
                                       exploration, virtual_loss, (int)b, row + c, term);
                if (arg == -1 || s > best) { best = s; arg = c; }
            }
            if (arg == -1) break;
            node = arg;
            atomicAdd(&inflight[row + node], 1);
        }
        leaves[b * P + path] = node;
    }
}

// One thread per tree: it owns the tree's allocation cursor, so no atomics are needed.
extern "C" __global__ void expand(int B, int M, int P, int K, const int* leaves, const int* k,
                                  const float* reward_in, const float* prior_in,
                                  const float* cost_in, const float* h_in, int* visits,
                                  float* value_sum, float* reward, float* prior, float* g,
                                  float* h, int* inflight, unsigned char* flags, int* parent,
                                  int* first_child, int* num_children, int* depth,
                                  const double* table, int table_size,
                                  double* parent_sqrt_log, int* num_nodes, int* first) {
    long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= B) return;
    long long row = b * M;
    for (int slot = 0; slot < P; slot++) {
        int leaf = leaves[b * P + slot], kk = k[b * P + slot];
        first[b * P + slot] = -1;
        if (leaf < 0 || leaf >= num_nodes[b] || kk <= 0 || (flags[row + leaf] & FLAG_EXPANDED))
            continue;
        int start = num_nodes[b];
        if (start + kk > M) continue;
        first[b * P + slot] = start;
        first_child[row + leaf] = start;
        num_children[row + leaf] = kk;
        flags[row + leaf] |= FLAG_EXPANDED;
        double term = sqrt_log(table, table_size, visits[row + leaf] + inflight[row + leaf]);
        for (int j = 0; j < kk; j++) {
            long long c = row + start + j, in = (b * P + slot) * K + j;
            visits[c] = 0;
            value_sum[c] = 0.0f;
            inflight[c] = 0;
            flags[c] = 0;
            first_child[c] = -1;
            num_children[c] = 0;
            parent[c] = leaf;
            depth[c] = depth[row + leaf] + 1;
            reward[c] = reward_in[in];
            prior[c] = prior_in[in];
            g[c] = g[row + leaf] + cost_in[in];
            h[c] = h_in[in];
            parent_sqrt_log[c] = term;
        }
        num_nodes[b] = start + kk;
    }
}

// One thread per (tree, path): paths of one tree share ancestors, so every update is
// an atomic add (float sums may differ from the sequential order in the last bits).
extern "C" __global__ void backup(int B, int M, int P, const int* leaves, const double* values,
                                  int release, int* visits, float* value_sum,
                                  const float* reward, int* inflight, const int* parent,
                                  const float* discount) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)B * P) return;
    long long b = t / P, row = b * M;
    double gamma = (double)discount[b];
    int node = leaves[t];
    double ret = values[t];
    while (node >= 0) {
        atomicAdd(&visits[row + node], 1);
        atomicAdd(&value_sum[row + node], (float)ret);
        if (release) atomicSub(&inflight[row + node], 1);
        ret = (double)reward[row + node] + gamma * ret;
        node = parent[row + node];
    }
}

// One thread per (tree, path), launched after descend and backup have finished: the
// children of every node on the path (and the root) get sqrt(log) of its final count.
// Threads of one tree may write the same slot, always with the same value.
extern "C" __global__ void refresh_paths(int B, int M, int P, const int* leaves,
                                         const double* table, int table_size,
                                         const int* visits, const int* inflight,
                                         const int* parent, const int* first_child,
                                         const int* num_children, double* parent_sqrt_log) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)B * P) return;
    long long b = t / P, row = b * M;
    int node = leaves[t];
    while (node >= 0) {
        double term = sqrt_log(table, table_size, visits[row + node] + inflight[row + node]);
        int fc = first_child[row + node], nc = num_children[row + node];
        for (int c = fc; c < fc + nc; c++) parent_sqrt_log[row + c] = term;
        if (parent[row + node] < 0) parent_sqrt_log[row + node] = term;
        node = parent[row + node];
    }
}
