// OpenBLAS CBLAS + LAPACKE (Debian: libopenblas-dev, liblapacke-dev).
#pragma once
#include <cblas.h>
#include <lapacke.h>
// Exported by OpenBLAS, declared in openblas_config-dependent headers only on some builds.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
