#include "models_dir.h"

#include <stdlib.h>

#ifndef ACCPAR_MODELS_DIR
#define ACCPAR_MODELS_DIR "models"
#endif

const char *models_dir(void) {
    const char *env = getenv("ACCPAR_MODELS_DIR");
    return (env && *env) ? env : ACCPAR_MODELS_DIR;
}
