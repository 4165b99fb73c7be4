/*
 * calling.h — the calling rules (engine-private). `heads` is indexed by
 * service * 2 + lane and need only be filled for the counter's services.
 * Returns the ticket the counter would call next, or NULL when none waits.
 */
#ifndef ENG_CALLING_H
#define ENG_CALLING_H

#include <stdlib.h>

#include "engine.h"

struct eng_ticket;
struct eng_ctr;
struct eng_ticket *calling_pick_from(const eng_hall *h, const struct eng_ctr *c, uint32_t consec,
                                     struct eng_ticket *const *heads);

#endif
