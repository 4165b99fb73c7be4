/*
 * config_priv.h — what config.c (parsing) and config_json.c (writing) share,
 * and nobody else. Everything outside goes through config.h.
 */
#ifndef ENG_CONFIG_PRIV_H
#define ENG_CONFIG_PRIV_H

#include <stdbool.h>

#include "config.h"

/* The config as compact JSON with sorted keys: full (canonical, stored) or
 * public. A new string the caller frees; NULL on allocation failure. */
char *config_dump(const eng_config *c, bool full);

#endif
