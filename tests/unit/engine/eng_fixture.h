/*
 * eng_fixture.h — shared helpers for the engine's rule, golden and random
 * tests: build hall configs from a C description, drive a hall with
 * deterministic ticket ids, run one-line commands in the transcript syntax,
 * and check what must hold after every command (gapless seq, events stamped
 * with the command's time, no citizen data in any public encoding or error
 * message, replay and snapshots giving the same state).
 *
 * Command syntax (one command per line, or several joined with ';' in
 * fx_run), an optional time first:
 *
 *   [TIME] issue SVC [prio=elderly|disabled|pregnant|child] [idem=K] [ch=kiosk|web|app|staff]
 *                    [phone=P] [name=N] [nik=K]
 *   [TIME] call CTR [CODE]          call next, or call the named ticket
 *   [TIME] recall|start|noshow CTR
 *   [TIME] finish CTR [transfer=SVC] [placement=first|last]
 *   [TIME] reinstate|cancel CODE
 *   [TIME] feedback CODE score=N [comment=TEXT]
 *   [TIME] open|close|pause|resume CTR
 *   [TIME] config NAME              replace the config by one registered with fx_add_config
 *   [TIME] tick                     eng_tick
 *
 * TIME is hall-local: HH:MM:SS (today), YYYY-MM-DDTHH:MM:SS, or +N[smh]
 * (advance). CODE names the latest ticket issued with that code (after a
 * rollover that may be yesterday's); "unknown" names an id the hall never saw. Words never contain
 * spaces.
 */
#ifndef ENG_FIXTURE_H
#define ENG_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "engine.h"

/* ---- configs ------------------------------------------------------------ */

typedef struct fx_svc {
    const char *id, *agency, *prefix;
    unsigned est_s, sla_s, quota;
} fx_svc;

typedef struct fx_ctr {
    const char *id, *label;
    const char *services; /* comma-separated ids, in order */
    const char *policy;   /* NULL: longest_wait (default) */
} fx_ctr;

#define FX_MAX_SVC 16
#define FX_MAX_CTR 16

typedef struct fx_hall {
    const char *id;
    int utc;
    const char *open, *close, *until; /* NULL: 00:00, 24:00, omitted */
    const char *weekdays;             /* JSON array text, NULL: every day */
    const char *closed_dates;         /* JSON array text, NULL: none */
    fx_svc svc[FX_MAX_SVC];           /* up to the first NULL id */
    fx_ctr ctr[FX_MAX_CTR];
    int max_consec;  /* 0: omitted (default 2) */
    int min_recalls; /* -1: omitted (default 1) */
    int reinstate_s; /* -1: omitted (default 1800) */
    bool self_service;
} fx_hall;

/* The JSON text of p; caller frees. */
char *fx_hall_json(const fx_hall *p);

/* ---- time --------------------------------------------------------------- */

/* ms since the epoch of a hall-local "YYYY-MM-DD" and "HH:MM:SS" at utc offset `utc` minutes. */
int64_t fx_time(const char *date, const char *hms, int utc);

/* ---- the harness -------------------------------------------------------- */

#define FX_MAX_PII 16

typedef struct fx_code {
    char code[8];
    uint8_t tid[ENG_TID_LEN];
} fx_code;

typedef struct fx {
    eng_hall *h;
    eng_evbuf ev;   /* events of the last command or tick */
    eng_result res; /* result of the last command */
    int rc;         /* rc of the last command or tick */
    int64_t now;
    uint64_t tid_ctr; /* ticket ids and secrets derive from it */
    uint64_t seq;     /* last stored seq seen */
    /* for replay checks: the first config and time, and every stored event (FULL msgpack) */
    char *cfg0;
    int64_t t0;
    codec_buf log; /* u32 length + bytes, per event */
    size_t nlog;
    bool no_log; /* random tests replay on the fly instead */
    /* codes of the tickets issued so far (the latest wins) */
    fx_code *codes;
    size_t ncodes, capcodes;
    /* citizen data that must never appear in public output or messages */
    char pii[FX_MAX_PII][ENG_PERSON_NAME_MAX + 1];
    int npii;
    /* configs for the `config NAME` command */
    struct {
        char name[32];
        char *json;
    } cfgs[8];
    int ncfgs;
    codec_buf scratch;
} fx;

/* Create the hall from config JSON (must parse) at time now. */
void fx_init(fx *f, const char *json, int64_t now);
void fx_init_p(fx *f, const fx_hall *p, int64_t now);
void fx_free(fx *f);

/* Register citizen data that must never show up in public output. */
void fx_add_pii(fx *f, const char *s);
/* Register a config under a name for the `config NAME` command (copied). */
void fx_add_config(fx *f, const char *name, const char *json);

/* Set the clock to a hall-local time today ("HH:MM:SS") or on a date. */
void fx_at(fx *f, const char *hms);
void fx_at_date(fx *f, const char *date, const char *hms);

/*
 * Apply one command at f->now: resets f->ev, applies, runs the per-command
 * checks (seq, stamps, citizen data, rc matches res.rc, failures append no
 * events but a rollover) and logs stored events. Returns the rc.
 */
int fx_apply(fx *f, const eng_cmd *c);
/* eng_tick at f->now, with the same checks. */
int fx_tick(fx *f);

/* Shorthands; the ticket acted on is in f->res.ticket. */
int fx_issue(fx *f, const char *svc, int prio, const char *idem);
int fx_ctr_cmd(fx *f, int type, const char *ctr);
int fx_call_tid(fx *f, const char *ctr, const uint8_t tid[ENG_TID_LEN]);
int fx_finish(fx *f, const char *ctr, const char *transfer_to, int placement);
int fx_tkt_cmd(fx *f, int type, const uint8_t tid[ENG_TID_LEN]);
int fx_feedback(fx *f, const uint8_t tid[ENG_TID_LEN], int score, const char *comment);

/* The id of the latest ticket issued with this code; fails the test when there is none. */
const uint8_t *fx_tid_of(fx *f, const char *code);

/* Short form of one event, appended to out. */
void fx_ev_short(const eng_event *ev, codec_buf *out);

/*
 * Run commands separated by ';' or newlines. Each command's result is its
 * events in short form joined by ", ", or "!code" on failure, or "-" when
 * it emitted nothing; results are joined by " | ". Returns a static buffer.
 */
const char *fx_run(fx *f, const char *script);

/*
 * Run one command line. golden=false: the short form as in fx_run, no
 * trailing newline. golden=true: the transcript form, lines indented by two
 * spaces, each ending in "\n": events as their public JSON in compact
 * key=value form, "! code: message" for a failure, "= CODE position=N" after
 * an issue (state=S instead when an idem
 * replay finds a ticket no longer waiting), "(no events)". Returns the rc; a malformed line fails
 * the test.
 */
int fx_exec(fx *f, const char *line, bool golden, codec_buf *out);

/* Snapshot bytes of a hall; caller frees. */
char *fx_snapshot(const eng_hall *h, size_t *len);
/* Replay every logged event into a fresh hall and compare snapshots; also decode(encode(h)). */
void fx_check_replay(fx *f);

/* Messages: does s contain sub? */
bool fx_has(const char *s, const char *sub);

/* NUL-terminate b's text (the NUL is not counted in len) and return it. */
const char *fx_cstr(codec_buf *b);

/* printf into a codec_buf */
void fx_printf(codec_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
