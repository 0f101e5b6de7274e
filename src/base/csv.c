/* csv.c — see csv.h. The reader moved as is from query/helpdesk.c, the
 * writer from query/render.c. */
#include "base/csv.h"

#include <string.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* Line breaks in [P, E): CRLF, LF or a lone CR each count once. */
static size_t count_lines(const char *p, const char *e)
{
    size_t n = 0;
    for (; p < e; p++)
        if (*p == '\n' || (*p == '\r' && (p + 1 == e || p[1] != '\n')))
            n++;
    return n;
}

int csv_next(struct csv *c, struct csv_field *f, size_t max, size_t *nf,
             size_t *start)
{
    *start = c->line;
    if (c->p >= c->e)
        return 0;
    size_t k = 0;
    for (;;) {
        const char *fs = c->p;
        if (c->p < c->e && *c->p == '"') {
            c->p++;
            for (;;) {
                const char *q = memchr(c->p, '"', (size_t)(c->e - c->p));
                if (q == NULL)
                    return -1;
                c->line += count_lines(c->p, q);
                c->p = q + 1;
                if (c->p < c->e && *c->p == '"') {          /* "" */
                    c->p++;
                    continue;
                }
                break;
            }
        }
        while (c->p < c->e && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
            c->p++;
        if (k < max) {
            f[k].p = fs;
            f[k].n = (size_t)(c->p - fs);
        }
        k++;
        if (c->p >= c->e)
            break;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p == '\r' && c->p + 1 < c->e && c->p[1] == '\n')
            c->p++;
        c->p++;
        c->line++;
        break;
    }
    *nf = k;
    return 1;
}

size_t csv_value(struct csv_field f, char *buf, size_t cap, bool *cut)
{
    const char *p = f.p, *e = f.p + f.n;
    bool quoted = false;
    size_t o = 0;
    *cut = false;
    if (p < e && *p == '"') {
        quoted = true;
        p++;
    }
    while (p < e) {
        char ch = *p++;
        if (quoted && ch == '"') {
            if (p < e && *p == '"') {
                p++;
            } else {
                quoted = false;
                continue;
            }
        }
        if (o + 1 >= cap) {
            *cut = true;
            break;
        }
        buf[o++] = ch;
    }
    buf[o] = '\0';
    return o;
}

bool csv_blank_record(const struct csv_field *f, size_t nf)
{
    if (nf != 1)
        return false;
    for (size_t i = 0; i < f[0].n; i++)
        if (!is_blank(f[0].p[i]))
            return false;
    return true;
}

void csv_put_field(struct buf *b, const char *s)
{
    bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        buf_str(b, s);
        return;
    }
    buf_str(b, formula ? "\"'" : "\"");
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            buf_put(b, "\"", 1);
        buf_put(b, c, 1);
    }
    buf_put(b, "\"", 1);
}
