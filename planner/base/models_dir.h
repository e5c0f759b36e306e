/* The models folder: presets (accelerators/), networks (networks/) and calibrations
 * (calibration/). */
#ifndef ACCPAR_MODELS_DIR_H
#define ACCPAR_MODELS_DIR_H

#ifdef __cplusplus
extern "C" {
#endif

/* $ACCPAR_MODELS_DIR if set and not empty; else the first of PROGRAM_DIR/../share/accpar/models
 * (installed), PROGRAM_DIR/../models (a checkout's build folder) and PROGRAM_DIR/models that
 * holds an accelerators/ folder; else PROGRAM_DIR/../models. Never a path compiled in: a copied or
 * installed tree reads its own models. */
const char *models_dir(void);

#ifdef __cplusplus
}
#endif

#endif
