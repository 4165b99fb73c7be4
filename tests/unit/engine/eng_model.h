/*
 * eng_model.h — a deliberately simple model of SPEC §3 for test_random.c:
 * plain arrays and linear scans, the calling rules written out again, and
 * nothing of the engine's insides. For each command it says what must
 * happen (the result code and the events, in order) and updates itself.
 *
 * Where SPEC is silent it follows docs/engine.md: a reinstated ticket goes
 * to the front of its lane keeping its original age for longest_wait, a
 * transfer placed first takes the age of the lane's head; a service that
 * leaves the config stays as a ghost while it was used today (tickets,
 * issues or calls), served by the counters that served it; at the day's end
 * serving tickets are done and waiting or called ones expire.
 */
#ifndef ENG_MODEL_H
#define ENG_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "eng_fixture.h"

#define M_SVC 32
#define M_CTR 32
#define M_SVC_OF_CTR 32
#define M_Q 4096
#define M_OLD 64

enum { P_NORMAL = 0, P_PRIO = 1 };

typedef struct m_cfg {
    int utc;
    int open_min, until_min;
    unsigned weekdays; /* bit d-1 */
    int32_t closed[4];
    int nclosed;
    int max_consec, min_recalls, reinstate_s;
} m_cfg;

typedef struct m_tk {
    uint8_t tid[ENG_TID_LEN];
    char code[8];
    int svc, ctr; /* ctr: -1 when none */
    int state, prio, recalls, score;
    int64_t rank, noshow_at;
    uint64_t order;
    char idem[ENG_IDEM_MAX + 1]; /* "" when none */
    bool callable;               /* the model's view: in a queue */
    bool eng_callable; /* from the engine's events alone: issued/transferred/reinstated since
                          its last call */
} m_tk;

typedef struct m_svc {
    char id[ENG_ID_MAX + 1];
    char prefix[3];
    unsigned quota;
    bool active, ghost, touched;
    unsigned next, issued;
    int q[2][M_Q]; /* ticket indices, queue order, per lane */
    int nq[2];
    unsigned st_issued, st_served, st_noshow, st_cancel, st_expired;
} m_svc;

typedef struct m_ctr {
    char id[ENG_ID_MAX + 1];
    bool active, in_order;
    int state, cur; /* cur: ticket index or -1 */
    unsigned consec;
    int svcs[M_SVC_OF_CTR];
    int nsvcs;
} m_ctr;

typedef struct model {
    m_cfg cfg;
    m_svc svc[M_SVC];
    int nsvc;
    m_ctr ctr[M_CTR];
    int nctr;
    m_tk *tk;
    int ntk, captk;
    uint64_t order;
    int32_t day;
    int64_t last_wait_at;
    uint8_t old[M_OLD][ENG_TID_LEN]; /* ids of earlier days' tickets */
    int nold;
} model;

/* An expected event. */
typedef struct m_ev {
    int type;
    char code[8], svc[ENG_ID_MAX + 1], from[ENG_ID_MAX + 1], ctr[ENG_ID_MAX + 1];
    int prio, recalls, score, cstate, placement;
    unsigned number;
    int32_t day;
} m_ev;

typedef struct m_out {
    m_ev ev[4];
    int n;
    int rc;
    int replay_of; /* issue: the ticket an idem key found, else -1 */
} m_out;

/* closing figures of the day being closed, per service id */
typedef struct m_closed {
    char id[ENG_ID_MAX + 1];
    unsigned issued, served, noshow, cancel, expired;
} m_closed;

int model_svc_find(const model *m, const char *id);
int model_ctr_find(const model *m, const char *id);
int model_tk_find(const model *m, const uint8_t tid[ENG_TID_LEN]);
void model_apply_config(model *m, const fx_hall *p);
int32_t model_day_of(const model *m, int64_t now);
int model_rollover(model *m, int64_t now, m_out *o, m_closed *closed);
bool model_hall_open(const model *m, int64_t now);
void model_issue(model *m, const eng_cmd *c, int64_t now, m_out *o);
void model_counter_cmd(model *m, const eng_cmd *cmd, int64_t now, m_out *o);
void model_ticket_cmd(model *m, const eng_cmd *cmd, int64_t now, m_out *o);
m_ev *model_expect(m_out *o, int type);
int model_pick(const model *m, const m_ctr *c);
/* A config replacement: counter_busy when a counter with a ticket would go. */
void model_config(model *m, const fx_hall *p, m_out *o);

#endif
