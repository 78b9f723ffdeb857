// oneDNN (Debian's libdnnl-dev, which ships no pkg-config file) for NN's GEMM seam and the profile's depthwise yardstick.
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>

// oneDNN's CPU runtime here is OpenMP (libgomp, loaded with libdnnl). Its thread count is set
// through libgomp, found at run time so that nothing links against the compiler's private copy.
// Returns 0 when libgomp is not loaded.
static inline int distill_omp_set_num_threads(int count) {
    void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (!set) return 0;
    set(count);
    return 1;
}

// The thread count oneDNN's next primitive will use (libgomp's omp_get_max_threads); 0 when libgomp is not loaded.
static inline int distill_omp_get_max_threads(void) {
    int (*get)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    return get ? get() : 0;
}

// DNNL_MEMORY_NONE is a macro Swift cannot import.
static inline void *distill_dnnl_memory_none(void) { return DNNL_MEMORY_NONE; }
