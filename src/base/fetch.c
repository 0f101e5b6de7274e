/* fetch.c — see fetch.h. */
#include "base/fetch.h"

#include <curl/curl.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fetch {
    CURL *h;            /* one easy handle: its connection is reused */
    long timeout_ms;
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static int fetch_init_rc;

static void fetch_init_once(void)
{
    fetch_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int fetch_global_init(void)
{
    pthread_once(&fetch_once, fetch_init_once);
    return fetch_init_rc;
}

struct fetch *fetch_new(long timeout_ms)
{
    if (fetch_global_init() != 0)
        return NULL;
    struct fetch *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->h = curl_easy_init();
    if (f->h == NULL) {
        free(f);
        return NULL;
    }
    f->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    return f;
}

void fetch_free(struct fetch *f)
{
    if (f == NULL)
        return;
    curl_easy_cleanup(f->h);
    free(f);
}

/* libcurl's write callback: appends to the caller's buffer (if any); a
 * buffer over its cap stops the transfer. */
static size_t fetch_write(char *p, size_t size, size_t n, void *arg)
{
    struct buf *reply = arg;
    size_t len = size * n;
    if (reply == NULL)
        return len;
    buf_put(reply, p, len);
    return buf_failed(reply) ? 0 : len;
}

/* Runs one request on F's handle (already given its method and body). */
static int fetch_perform(struct fetch *f, const char *url, struct buf *reply,
                         long *status, char *err, size_t errlen)
{
    char ebuf[CURL_ERROR_SIZE] = "";
    CURL *h = f->h;
    long connect_ms = f->timeout_ms < 5000 ? f->timeout_ms : 5000;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, f->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
    *status = 0;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

int fetch_post(struct fetch *f, const char *url, const char *body,
               size_t len, struct buf *reply, long *status,
               char *err, size_t errlen)
{
    static const char ctype[] = "Content-Type: text/plain; charset=utf-8";
    struct curl_slist *hdrs = curl_slist_append(NULL, ctype);
    if (hdrs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(f->h, CURLOPT_HTTPGET, 0L);
    curl_easy_setopt(f->h, CURLOPT_POST, 1L);
    curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, hdrs);
    int rc = fetch_perform(f, url, reply, status, err, errlen);
    curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(hdrs);
    return rc;
}

int fetch_get(struct fetch *f, const char *url, struct buf *reply,
              long *status, char *err, size_t errlen)
{
    curl_easy_setopt(f->h, CURLOPT_HTTPGET, 1L);
    return fetch_perform(f, url, reply, status, err, errlen);
}
