/* assets.c — see assets.h. */
#define _DEFAULT_SOURCE     /* realpath, O_NOFOLLOW */
#define _POSIX_C_SOURCE 200809L
#include "dwell/assets.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embed.h"
#include "base/crypto.h"

#define DEMO_FILE_MAX (1u << 20)

void assets_init(struct assets *a, const char *demo_dir)
{
    static const uint8_t key[16] = "dwell.js etag...";
    uint64_t h = crypto_siphash24(key, embed_dwell_js, embed_dwell_js_len);
    a->demo_dir = demo_dir;
    a->demo_real[0] = '\0';
    if (demo_dir != NULL && realpath(demo_dir, a->demo_real) == NULL)
        a->demo_real[0] = '\0';          /* nothing will be served */
    snprintf(a->etag, sizeof a->etag, "\"%016llx\"", (unsigned long long)h);
}

size_t assets_snippet_gz_size(void)
{
    return embed_dwell_js_gz_len;
}

/* True when the Accept-Encoding header value AE allows gzip. */
static bool accepts_gzip(const char *ae)
{
    if (ae == NULL)
        return false;
    const char *g = strstr(ae, "gzip");
    if (g == NULL)
        return false;
    const char *q = g + 4;
    while (*q == ' ')
        q++;
    return !(strncmp(q, ";q=0", 4) == 0 && strncmp(q, ";q=0.", 5) != 0);
}

/* Answers with an embedded file: its gzip form when the client takes it. */
static void reply_embedded(const struct http_req *q, struct http_reply *r,
                           const unsigned char *plain, size_t plain_len,
                           const unsigned char *gz, size_t gz_len)
{
    r->body_static = true;
    if (accepts_gzip(http_req_header(q, "Accept-Encoding"))) {
        http_reply_header(r, "Content-Encoding", "gzip");
        r->body = gz;
        r->len = gz_len;
    } else {
        r->body = plain;
        r->len = plain_len;
    }
}

void assets_snippet(void *ctx, const struct http_req *q, struct http_reply *r)
{
    struct assets *a = ctx;
    http_reply_header(r, "ETag", a->etag);
    http_reply_header(r, "Cache-Control", "public, max-age=3600");
    http_reply_header(r, "Vary", "Accept-Encoding");
    const char *inm = http_req_header(q, "If-None-Match");
    if (inm != NULL && strstr(inm, a->etag) != NULL) {
        r->status = 304;
        r->body = "";
        r->len = 0;
        r->body_static = true;
        return;
    }
    r->status = 200;
    r->content_type = "application/javascript; charset=utf-8";
    r->body_static = true;
    reply_embedded(q, r, embed_dwell_js, embed_dwell_js_len,
                   embed_dwell_js_gz, embed_dwell_js_gz_len);
}

static const char *content_type_of(const char *name)
{
    static const struct { const char *ext, *type; } tab[] = {
        { ".html", "text/html; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".js", "application/javascript; charset=utf-8" },
        { ".svg", "image/svg+xml" },
        { ".png", "image/png" },
        { ".json", "application/json" },
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(dot, tab[i].ext) == 0)
            return tab[i].type;
    return "application/octet-stream";
}

static bool demo_name_ok(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strlen(name) > 100)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' ||
              *c == '-'))
            return false;
    return true;
}

/* Reads the regular file PATH (at most DEMO_FILE_MAX bytes) into a new
 * buffer, provided it lies inside the directory ROOT (a real path):
 * neither PATH nor any directory on the way may be a symbolic link out of
 * it. NULL for anything else. */
static char *read_file(const char *root, const char *path, size_t *len)
{
    char real[PATH_MAX];
    size_t rl = strlen(root);
    if (root[0] == '\0' || realpath(path, real) == NULL ||
        strncmp(real, root, rl) != 0 || real[rl] != '/')
        return NULL;
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        close(fd);
        return NULL;
    }
    char *buf = malloc(DEMO_FILE_MAX);
    size_t n = buf ? fread(buf, 1, DEMO_FILE_MAX, f) : 0;
    bool bad = buf == NULL || ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

void assets_demo(void *ctx, const struct http_req *q, struct http_reply *r)
{
    struct assets *a = ctx;
    const char *name = q->path + strlen("/demo/");
    if (name[0] == '\0')
        name = "index.html";
    if (a->demo_dir == NULL || !demo_name_ok(name)) {
        http_reply_error(r, 404, "no such resource");
        return;
    }
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", a->demo_dir, name);
    size_t len = 0;
    char *body = (n > 0 && (size_t)n < sizeof path)
                 ? read_file(a->demo_real, path, &len) : NULL;
    if (body == NULL) {
        http_reply_error(r, 404, "no such resource");
        return;
    }
    r->status = 200;
    r->content_type = content_type_of(name);
    r->body = body;
    r->len = len;
    r->body_static = false;     /* copied by the server, freed below */
    r->owned = body;
}

void assets_locked_down(struct http_reply *r, const char *csp)
{
    http_reply_header(r, "Content-Security-Policy", csp);
    http_reply_header(r, "Referrer-Policy", "no-referrer");
    http_reply_header(r, "X-Content-Type-Options", "nosniff");
    http_reply_header(r, "X-Frame-Options", "DENY");
}

/* The report page's policy: its script and styles only from /report.js
 * and /report.css, its data only from the API, no frame around it. */
#define REPORT_CSP "default-src 'none'; script-src 'self'; " \
    "style-src 'self'; connect-src 'self'; img-src 'self' data:; " \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

void assets_report(void *ctx, const struct http_req *q, struct http_reply *r)
{
    const char *site = q->path + strlen("/report/");
    (void)ctx;
    assets_locked_down(r, REPORT_CSP);
    if (site[0] == '\0' || strchr(site, '/') != NULL) {
        http_reply_error(r, 404, "no such resource: /report/SITE");
        return;
    }
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    r->body_static = true;
    http_reply_header(r, "Cache-Control", "no-cache");
    http_reply_header(r, "Vary", "Accept-Encoding");
    reply_embedded(q, r, embed_report_html, embed_report_html_len,
                   embed_report_html_gz, embed_report_html_gz_len);
}

void assets_report_file(void *ctx, const struct http_req *q,
                        struct http_reply *r)
{
    bool js = strcmp(q->path, "/report.js") == 0;
    (void)ctx;
    assets_locked_down(r, "default-src 'none'; frame-ancestors 'none'");
    r->status = 200;
    r->content_type = js ? "application/javascript; charset=utf-8"
                         : "text/css; charset=utf-8";
    http_reply_header(r, "Cache-Control", "no-cache");
    http_reply_header(r, "Vary", "Accept-Encoding");
    if (js)
        reply_embedded(q, r, embed_report_js, embed_report_js_len,
                       embed_report_js_gz, embed_report_js_gz_len);
    else
        reply_embedded(q, r, embed_report_css, embed_report_css_len,
                       embed_report_css_gz, embed_report_css_gz_len);
}

void assets_docs(void *ctx, const struct http_req *q, struct http_reply *r)
{
    const char *name = q->path + strlen("/docs/");
    size_t n = strlen(name);
    char file[64];
    (void)ctx;
    if (n < 4 || n > 40 || strcmp(name + n - 3, ".md") != 0 ||
        !demo_name_ok(name)) {
        http_reply_error(r, 404, "no such page of the documentation");
        return;
    }
    snprintf(file, sizeof file, "doc-%.*s.html", (int)(n - 3), name);
    for (size_t i = 0; i < embed_files_count; i++) {
        const struct embed_file *f = &embed_files[i];
        if (strcmp(f->name, file) != 0)
            continue;
        r->status = 200;
        r->content_type = "text/html; charset=utf-8";
        http_reply_header(r, "Cache-Control", "public, max-age=3600");
        http_reply_header(r, "Vary", "Accept-Encoding");
        http_reply_header(r, "Content-Security-Policy",
                          "default-src 'none'; style-src 'unsafe-inline'");
        reply_embedded(q, r, f->data, *f->len, f->gz, *f->gz_len);
        return;
    }
    http_reply_error(r, 404, "no such page of the documentation");
}
