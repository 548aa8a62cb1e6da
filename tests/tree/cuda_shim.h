// Lets g++ compile optimizers/tree/backends/tree_kernels.cu for a CPU check.
// Threads run one after another (the Python launcher loops over blockIdx/threadIdx),
// so atomics are plain read-modify-writes here: this checks each kernel's logic and
// indexing, not its behaviour under real concurrency.
#include <cmath>
struct ShimDim { unsigned x = 0, y = 1, z = 1; };
static ShimDim blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__ static
#define __forceinline__ inline
static inline int atomicAdd(int* p, int v) { int old = *p; *p = old + v; return old; }
static inline float atomicAdd(float* p, float v) { float old = *p; *p = old + v; return old; }
static inline int atomicSub(int* p, int v) { int old = *p; *p = old - v; return old; }
extern "C" void shim_set(unsigned block, unsigned thread, unsigned block_dim, unsigned grid_dim) {
    blockIdx.x = block; threadIdx.x = thread; blockDim.x = block_dim; gridDim.x = grid_dim;
}
