/*
 * test_golden.c — golden transcripts: the *.txt files in tests/unit/engine/golden.
 *
 * A transcript is a hall config, a start time and commands, one a line in the
 * syntax of eng_fixture.h, each followed by what it must produce: every
 * event as its public JSON (codec_event_json, CODEC_PUBLIC) in compact
 * key=value form ("hall" and "at" are checked, not printed), "! code:
 * message" for a refused command, "= CODE position=N" after an issue. The
 * runner drives a fresh hall (ticket ids from a counter), rebuilds the whole
 * file from the commands and compares it with the file line by line,
 * printing a diff on mismatch. Finally the event log is replayed into a
 * fresh hall and the snapshots compared.
 *
 * File syntax:
 *   # comment                 kept as is
 *   @config NAME              the config JSON follows, up to a line "@end";
 *                             the first one is the hall's; later ones are for
 *                             the `config NAME` command
 *   @start YYYY-MM-DDTHH:MM:SS  hall-local creation time
 *   COMMAND                   see eng_fixture.h
 *     expected lines          indented by two spaces; regenerated
 *
 * To regenerate after a deliberate change (then read the diff line by line
 * against SPEC §3 before committing it):
 *   ANT_GOLDEN_UPDATE=1 ./build-etest/test_engine --filter 'golden/[star]'
 * (with a literal asterisk for [star]).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ant_test.h"
#include "eng_fixture.h"

/* The directory of the transcripts: $ANT_SOURCE_DIR/tests/unit/engine/golden, else beside this
 * file. */
static void golden_dir(char *out, size_t cap)
{
    const char *src = getenv("ANT_SOURCE_DIR");
    if (src && *src) {
        snprintf(out, cap, "%s/tests/unit/engine/golden", src);
        return;
    }
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    snprintf(out, cap, "%.*s/golden", slash ? (int)(slash - file) : 1, slash ? file : ".");
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    cr_assert_geq(n, 0);
    rewind(fp);
    char *s = malloc((size_t)n + 1);
    cr_assert_not_null(s);
    cr_assert_eq(fread(s, 1, (size_t)n, fp), (size_t)n);
    s[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return s;
}

/* Split text into lines (in place); returns the count, *lines malloc'ed. */
static size_t split_lines(char *text, char ***lines)
{
    size_t n = 0, cap = 256;
    char **v = malloc(cap * sizeof *v);
    cr_assert_not_null(v);
    char *p = text;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            cr_assert_not_null(v);
        }
        v[n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    *lines = v;
    return n;
}

/* A line diff (LCS), at most `max` lines of output. */
static void print_diff(char **a, size_t na, char **b, size_t nb, const char *name)
{
    size_t w = nb + 1;
    unsigned *lcs = calloc((na + 1) * w, sizeof *lcs);
    cr_assert_not_null(lcs);
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            lcs[i * w + j] = strcmp(a[i], b[j]) == 0
                                 ? lcs[(i + 1) * w + j + 1] + 1
                                 : (lcs[(i + 1) * w + j] > lcs[i * w + j + 1] ? lcs[(i + 1) * w + j]
                                                                              : lcs[i * w + j + 1]);
    fprintf(stderr, "--- %s (expected, in the file)\n+++ %s (what the engine did)\n", name, name);
    size_t i = 0, j = 0;
    int shown = 0;
    while ((i < na || j < nb) && shown < 80) {
        if (i < na && j < nb && strcmp(a[i], b[j]) == 0) {
            i++;
            j++;
        } else if (j < nb && (i == na || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j])) {
            fprintf(stderr, "@%zu +%s\n", i + 1, b[j]);
            j++;
            shown++;
        } else {
            fprintf(stderr, "@%zu -%s\n", i + 1, a[i]);
            i++;
            shown++;
        }
    }
    free(lcs);
}

/* Run one transcript; returns the rebuilt text (caller frees). */
static char *run_transcript(char **lines, size_t n, const char *name)
{
    codec_buf out;
    codec_buf_init(&out);
    struct {
        char name[32];
        codec_buf json;
    } cfgs[8];
    int ncfg = 0;
    fx f;
    bool started = false;
    for (size_t i = 0; i < n; i++) {
        const char *l = lines[i];
        if (strncmp(l, "  ", 2) == 0)
            continue; /* an expected line: rebuilt below */
        fx_printf(&out, "%s\n", l);
        if (l[0] == '\0' || l[0] == '#')
            continue;
        if (strncmp(l, "@config ", 8) == 0) {
            cr_assert_lt(ncfg, 8, "%s:%zu: too many configs", name, i + 1);
            snprintf(cfgs[ncfg].name, sizeof cfgs[ncfg].name, "%s", l + 8);
            codec_buf_init(&cfgs[ncfg].json);
            for (i++; i < n && strcmp(lines[i], "@end") != 0; i++) {
                fx_printf(&out, "%s\n", lines[i]);
                fx_printf(&cfgs[ncfg].json, "%s\n", lines[i]);
            }
            cr_assert_lt(i, n, "%s: @config %s has no @end", name, cfgs[ncfg].name);
            fx_printf(&out, "@end\n");
            fx_cstr(&cfgs[ncfg].json);
            if (started)
                fx_add_config(&f, cfgs[ncfg].name, cfgs[ncfg].json.data);
            ncfg++;
            continue;
        }
        if (strncmp(l, "@start ", 7) == 0) {
            char date[16], hms[16];
            cr_assert(!started && ncfg > 0, "%s:%zu: @start needs a @config first", name, i + 1);
            cr_assert_eq(sscanf(l + 7, "%10[0-9-]T%8[0-9:]", date, hms), 2, "%s:%zu: bad @start",
                         name, i + 1);
            eng_config *cfg = NULL;
            eng_problems pr;
            cr_assert_eq(eng_config_parse(cfgs[0].json.data, cfgs[0].json.len, &cfg, &pr), 0,
                         "%s: config %s: %s", name, cfgs[0].name, pr.count ? pr.msg[0] : "");
            int utc = cfg->utc_offset_min;
            eng_config_free(cfg);
            fx_init(&f, cfgs[0].json.data, fx_time(date, hms, utc));
            for (int k = 0; k < ncfg; k++)
                fx_add_config(&f, cfgs[k].name, cfgs[k].json.data);
            started = true;
            continue;
        }
        cr_assert(started, "%s:%zu: command before @start", name, i + 1);
        fx_exec(&f, l, true, &out);
    }
    cr_assert(started, "%s: no @start", name);
    fx_check_replay(&f);
    fx_free(&f);
    for (int k = 0; k < ncfg; k++)
        codec_buf_free(&cfgs[k].json);
    char *s = strdup(fx_cstr(&out));
    codec_buf_free(&out);
    return s;
}

static void check_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    char *text = read_all(path, &len);
    char *work = strdup(text);
    char **lines;
    size_t n = split_lines(work, &lines);
    if (n && lines[n - 1][0] == '\0')
        n--; /* the file's final newline */
    char *got = run_transcript(lines, n, name);
    bool same = strcmp(got, text) == 0;
    if (!same && getenv("ANT_GOLDEN_UPDATE")) {
        FILE *fp = fopen(path, "wb");
        cr_assert_not_null(fp, "cannot write %s", path);
        fputs(got, fp);
        fclose(fp);
        fprintf(stderr, "golden: rewrote %s\n", path);
        same = true;
    } else if (!same) {
        char *gwork = strdup(got);
        char **glines;
        size_t gn = split_lines(gwork, &glines);
        if (gn && glines[gn - 1][0] == '\0')
            gn--;
        print_diff(lines, n, glines, gn, name);
        free(glines);
        free(gwork);
    }
    free(got);
    free(lines);
    free(work);
    free(text);
    cr_assert(same,
              "%s differs from what the engine does (diff above); if the change is "
              "intended, regenerate with ANT_GOLDEN_UPDATE=1 and check it by hand",
              name);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(golden, transcripts, .timeout = 60)
{
    char dir[900];
    golden_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "no golden directory %s", dir);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t k = strlen(e->d_name);
        if (k > 4 && strcmp(e->d_name + k - 4, ".txt") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    cr_assert_geq(n, 2, "expected at least two transcripts in %s", dir);
    for (int i = 0; i < n; i++) {
        cr_log_info("golden: %s", names[i]);
        check_file(dir, names[i]);
        free(names[i]);
    }
}
