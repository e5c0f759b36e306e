/* The models folder: presets (accelerators/), networks (networks/) and calibrations
 * (calibration/). */
#ifndef ACCPAR_MODELS_DIR_H
#define ACCPAR_MODELS_DIR_H

#ifdef __cplusplus
extern "C" {
#endif

/* $ACCPAR_MODELS_DIR if set and not empty, else the source tree's models folder. */
const char *models_dir(void);

#ifdef __cplusplus
}
#endif

#endif
