/*
 * config.c — libFuzzer target: eng_config_parse on arbitrary JSON text. When
 * a config is accepted, its canonical JSON (cfg->json) must parse again and
 * give the very same canonical JSON (idempotence); the deep copy and the
 * public form must work too. Everything is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    eng_problems *probs = malloc(sizeof(*probs));
    if (!probs)
        return 0;
    eng_config *cfg = (eng_config *)1, *cfg2 = NULL;
    int rc = eng_config_parse((const char *)data, size, &cfg, probs);
    if (rc != 0) {
        if (cfg != NULL || probs->count <= 0)
            abort(); /* a rejected config lists at least one problem */
        int n = probs->count < ENG_PROBLEMS_MAX ? probs->count : ENG_PROBLEMS_MAX;
        for (int i = 0; i < n; i++)
            if (!memchr(probs->msg[i], 0, sizeof probs->msg[i]))
                abort();
        free(probs);
        return 0;
    }
    if (!cfg || !cfg->json || strlen(cfg->json) != cfg->json_len)
        abort();
    if (eng_config_parse(cfg->json, cfg->json_len, &cfg2, probs) != 0)
        abort(); /* canonical JSON must be accepted */
    if (cfg2->json_len != cfg->json_len || memcmp(cfg2->json, cfg->json, cfg->json_len) != 0)
        abort();
    eng_config *dup = eng_config_dup(cfg2);
    if (dup) {
        if (dup->json_len != cfg->json_len || memcmp(dup->json, cfg->json, cfg->json_len) != 0)
            abort();
        eng_config_free(dup);
    }
    free(eng_config_public_json(cfg));
    eng_config_free(cfg2);
    eng_config_free(cfg);
    free(probs);
    return 0;
}
